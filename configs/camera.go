package configs

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// CameraNames lists the camera names in config order.
func (c Config) CameraNames() []string {
	names := make([]string, len(c.Cameras))
	for i, cam := range c.Cameras {
		names[i] = cam.Name
	}
	return names
}

// EffectiveSize is the capture size and rate, where 0 means the output's.
func (c Camera) EffectiveSize(out Output) (w, h, fps int) {
	w, h, fps = c.Width, c.Height, c.Framerate
	if w == 0 {
		w = out.Width
	}
	if h == 0 {
		h = out.Height
	}
	if fps == 0 {
		fps = out.Framerate
	}
	return w, h, fps
}

// PictureSize is the size of the camera's picture as the mixer gets it:
// the capture size, cropped, then turned.
func (c Camera) PictureSize(out Output) (w, h int) {
	cw, ch, _ := c.EffectiveSize(out)
	w, h = c.Crop.Size(cw, ch)
	if c.Rotate.Quarter() {
		w, h = h, w
	}
	return w, h
}

// DefaultStallTimeout is how long a camera may send nothing before it is
// reconnected, unless the camera sets stall_timeout.
const DefaultStallTimeout = 2 * time.Second

// StallAfter is the camera's stall timeout: its own, else the default (a
// config built in code may leave it 0; Parse fills it in).
func (c Camera) StallAfter() time.Duration {
	if c.StallTimeout == 0 {
		return DefaultStallTimeout
	}
	return c.StallTimeout.D()
}

// camerasProblems checks the list as a whole and then each camera.
func camerasProblems(cams []Camera, out Output) []*FieldError {
	var errs []*FieldError
	if len(cams) < 1 || len(cams) > 2 {
		errs = append(errs, fieldErrorf("cameras", "need 1 or 2 cameras, got %d (pipcam mixes at most two)", len(cams)))
	}
	return append(errs, namedList("cameras", cams, func(c Camera) string { return c.Name },
		func(c Camera) []*FieldError { return c.problems(out) })...)
}

func (c Camera) problems(out Output) []*FieldError {
	var errs []*FieldError
	if err := checkName(c.Name); err != nil {
		errs = append(errs, &FieldError{Field: "name", Err: err})
	}
	if err := c.Type.check(); err != nil {
		errs = append(errs, &FieldError{Field: "type", Err: err})
	}
	errs = append(errs, c.sourceProblems()...)
	errs = append(errs, checkOptionalSize("width", c.Width)...)
	errs = append(errs, checkOptionalSize("height", c.Height)...)
	if c.Framerate != 0 && (c.Framerate < 1 || c.Framerate > 120) {
		errs = append(errs, fieldErrorf("framerate", "must be 0 (the output's) or 1-120, got %d", c.Framerate))
	}
	if err := c.Rotate.check(); err != nil {
		errs = append(errs, &FieldError{Field: "rotate", Err: err})
	}
	if err := c.Flip.check(); err != nil {
		errs = append(errs, &FieldError{Field: "flip", Err: err})
	}
	w, h, fps := c.EffectiveSize(out)
	errs = append(errs, prefixed("crop", c.Crop.problems(w, h))...)
	// Two frame intervals at least, so a slow snapshot camera is not
	// taken for a stalled one between two pictures.
	if least := max(2*time.Second/time.Duration(max(fps, 1)), 500*time.Millisecond); c.StallTimeout != 0 &&
		(c.StallTimeout.D() < least || c.StallTimeout.D() > time.Minute) {
		errs = append(errs, fieldErrorf("stall_timeout", "must be %s-1m at %d frames per second, got %s", least, fps, c.StallTimeout))
	}
	return errs
}

// sourceProblems checks the fields of the camera's type, and that fields
// of other types are not set: "device:" without "type: v4l2" would
// otherwise silently show a test pattern.
func (c Camera) sourceProblems() []*FieldError {
	var errs []*FieldError
	used := map[string]bool{}
	check := func(field string, err error) {
		used[field] = true
		if err != nil {
			errs = append(errs, &FieldError{Field: field, Err: err})
		}
	}
	switch c.Type {
	case CameraTest:
		check("pattern", c.Pattern.check())
	case CameraV4L2:
		check("device", checkDevice(c.Device))
		check("format", c.Format.check())
	case CameraLibcamera:
		if c.Device != "" {
			check("device", checkLibcameraID(c.Device))
		}
	case CameraMJPEG, CameraSnapshot, CameraRTSP:
		check("url", checkCameraURL(c.Type, c.URL))
		used["username"], used["password"] = true, true
		if c.Password != "" && c.Username == "" {
			errs = append(errs, fieldErrorf("username", "required when a password is set"))
		}
		if strings.ContainsAny(c.Username, ":\r\n\x00") {
			errs = append(errs, fieldErrorf("username", "must not contain ':' or control characters"))
		}
		if c.Type == CameraRTSP {
			check("transport", c.Transport.check())
		}
	}
	for _, f := range []struct {
		name  string
		set   bool
		types string
	}{
		{"pattern", c.Pattern != "", "test"},
		{"device", c.Device != "", "v4l2 and libcamera"},
		{"format", c.Format != "", "v4l2"},
		{"url", c.URL != "", "mjpeg, snapshot and rtsp"},
		{"username", c.Username != "", "mjpeg, snapshot and rtsp"},
		{"password", c.Password != "", "mjpeg, snapshot and rtsp"},
		{"transport", c.Transport != "", "rtsp"},
	} {
		if f.set && !used[f.name] && c.Type.check() == nil {
			errs = append(errs, fieldErrorf(f.name, "only used by %s cameras (this one is type %s)", f.types, c.Type))
		}
	}
	return errs
}

// checkName enforces ^[a-z0-9][a-z0-9_-]{0,31}$: names appear in URLs,
// the API and GStreamer element names.
func checkName(name string) error {
	if name == "" {
		return errors.New("required")
	}
	ok := len(name) <= 32 && isLowerAlnum(name[0])
	for i := 0; ok && i < len(name); i++ {
		ok = isLowerAlnum(name[i]) || name[i] == '_' || name[i] == '-'
	}
	if !ok {
		return fmt.Errorf("%q must be 1-32 of a-z, 0-9, _ and -, starting with a letter or digit", name)
	}
	return nil
}

func isLowerAlnum(b byte) bool { return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' }

// checkDevice enforces ^/dev/[A-Za-z0-9._:/+-]+$ without "..". The device
// need not exist now: a camera that is unplugged at start is retried until
// it appears (by its /dev/v4l/by-id name).
func checkDevice(dev string) error {
	if dev == "" {
		return errors.New("required for a v4l2 camera, e.g. a /dev/v4l/by-id/ link (pipcam list-cameras prints them)")
	}
	rest, ok := strings.CutPrefix(dev, "/dev/")
	ok = ok && rest != "" && !strings.Contains(dev, "..")
	for i := 0; ok && i < len(rest); i++ {
		b := rest[i]
		ok = b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte("._:/+-", b) >= 0
	}
	if !ok {
		return fmt.Errorf("%q must be a path under /dev/ of letters, digits and . _ : / + - (no ..)", dev)
	}
	return nil
}

// checkLibcameraID allows libcamera's camera ids, such as
// /base/soc/i2c0mux/i2c@1/imx708@1a: printable, no spaces or quotes.
func checkLibcameraID(id string) error {
	if len(id) > 200 {
		return fmt.Errorf("libcamera camera id is %d characters; at most 200", len(id))
	}
	for _, r := range id {
		if r <= ' ' || r == '"' || r == '\\' || r == 0x7f {
			return fmt.Errorf("libcamera camera id %q has a space, quote or control character", id)
		}
	}
	return nil
}

// checkSize is for sizes that must be given: 16-4096 and even (the
// encoders and I420 need even sizes).
func checkSize(field string, v int) []*FieldError {
	if v < 16 || v > 4096 {
		return []*FieldError{fieldErrorf(field, "must be 16-4096, got %d", v)}
	}
	if v%2 != 0 {
		return []*FieldError{fieldErrorf(field, "must be even, got %d", v)}
	}
	return nil
}

func checkOptionalSize(field string, v int) []*FieldError {
	if v == 0 {
		return nil
	}
	if v < 16 || v > 4096 {
		return []*FieldError{fieldErrorf(field, "must be 0 (the output's) or 16-4096, got %d", v)}
	}
	return checkSize(field, v)
}
