package configs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
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

// camerasProblems checks the list as a whole and then each camera.
func camerasProblems(cams []Camera) []*FieldError {
	var errs []*FieldError
	if len(cams) < 1 || len(cams) > 2 {
		errs = append(errs, fieldErrorf("cameras", "need 1 or 2 cameras, got %d (pipcam mixes at most two)", len(cams)))
	}
	first := map[string]int{}
	for i, cam := range cams {
		path := fmt.Sprintf("cameras[%d]", i)
		errs = append(errs, prefixed(path, cam.problems())...)
		if j, dup := first[cam.Name]; dup && cam.Name != "" {
			errs = append(errs, fieldErrorf(path+".name", "%q is already the name of cameras[%d]", cam.Name, j))
		} else {
			first[cam.Name] = i
		}
	}
	return errs
}

func (c Camera) problems() []*FieldError {
	var errs []*FieldError
	if err := checkName(c.Name); err != nil {
		errs = append(errs, &FieldError{Field: "name", Err: err})
	}
	if err := c.Type.check(); err != nil {
		errs = append(errs, &FieldError{Field: "type", Err: err})
	}
	switch c.Type {
	case CameraTest:
		if err := c.Pattern.check(); err != nil {
			errs = append(errs, &FieldError{Field: "pattern", Err: err})
		}
		// Catches "device:" given without "type: v4l2", which would
		// otherwise silently show a test pattern.
		if c.Device != "" {
			errs = append(errs, fieldErrorf("device", "only used by v4l2 cameras (this one is type test; add type: v4l2)"))
		}
		if c.Format != "" {
			errs = append(errs, fieldErrorf("format", "only used by v4l2 cameras (this one is type test)"))
		}
	case CameraV4L2:
		if err := checkDevice(c.Device); err != nil {
			errs = append(errs, &FieldError{Field: "device", Err: err})
		}
		if err := c.Format.check(); err != nil {
			errs = append(errs, &FieldError{Field: "format", Err: err})
		}
		if c.Pattern != "" {
			errs = append(errs, fieldErrorf("pattern", "only used by test cameras (this one is type v4l2)"))
		}
	}
	errs = append(errs, checkOptionalSize("width", c.Width)...)
	errs = append(errs, checkOptionalSize("height", c.Height)...)
	if c.Framerate != 0 && (c.Framerate < 1 || c.Framerate > 120) {
		errs = append(errs, fieldErrorf("framerate", "must be 0 (the output's) or 1-120, got %d", c.Framerate))
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

// checkDevice enforces ^/dev/[A-Za-z0-9._:/+-]+$ without "..", then that
// the device exists (the by-id and by-path links count).
func checkDevice(dev string) error {
	if dev == "" {
		return errors.New("required for a v4l2 camera, e.g. /dev/video0 or a /dev/v4l/by-id/ link")
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
	if _, err := os.Stat(dev); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s does not exist", dev)
	} else if err != nil {
		return fmt.Errorf("check %s: %w", dev, err)
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
