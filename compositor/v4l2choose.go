package compositor

import (
	"errors"
	"fmt"
	"slices"

	"github.com/pipcam/pipcam/configs"
)

// V4L2Choice is the mode pipcam asks a V4L2 camera for.
type V4L2Choice struct {
	Format configs.CaptureFormat // mjpeg or raw
	Width  int
	Height int
	Rate   Fraction
	// Why says how it was chosen, for the log and status.
	Why string
}

func (c V4L2Choice) String() string {
	return fmt.Sprintf("%s %dx%d at %s fps (%s)", c.Format, c.Width, c.Height, rateText(c.Rate.float()), c.Why)
}

// ErrRawSensor is the choice's error for a camera receiver node that only
// libcamera can drive.
var ErrRawSensor = errors.New("this is a raw camera sensor (Bayer formats only, through a CSI receiver): use type: libcamera")

// largePicture is where auto prefers MJPEG even when raw would keep the
// frame rate: above 640x480, raw YUYV at 15-30 fps is most of a USB 2.0
// bus (two such cameras on one Pi do not fit), and a Pi Zero spends less
// on decoding a JPEG than on moving the raw picture.
const largePicture = 640 * 480

// ChooseV4L2Mode picks the mode to ask a camera for, from the modes it
// offers, for a wanted picture of w x h at fps. format auto prefers raw
// YUYV for small pictures and MJPEG for large ones, each only where it
// keeps the wanted frame rate; mjpeg and raw force the format. The size is
// the wanted one when the camera has it, else the smallest larger one
// (scaled down after decoding), else the largest. The rate is the wanted
// one, else the lowest faster one (the mixer takes what it needs), else the
// fastest there is.
func ChooseV4L2Mode(modes []V4L2Mode, format configs.CaptureFormat, w, h, fps int) (V4L2Choice, error) {
	if slices.ContainsFunc(modes, func(m V4L2Mode) bool { return bayer(m.FourCC) }) &&
		!slices.ContainsFunc(modes, func(m V4L2Mode) bool { return m.Kind() == "mjpeg" }) {
		return V4L2Choice{}, ErrRawSensor
	}
	mj, mjOK := bestOfKind(modes, "mjpeg", w, h, fps)
	raw, rawOK := bestOfKind(modes, "raw", w, h, fps)
	switch format {
	case configs.FormatMJPEG:
		if mj == nil {
			return V4L2Choice{}, fmt.Errorf("format mjpeg: the camera offers no MJPEG mode (it has %s)", fourccs(modes))
		}
		return choice(configs.FormatMJPEG, *mj, w, h, fps, "mjpeg as configured"), nil
	case configs.FormatRaw:
		if raw == nil {
			return V4L2Choice{}, fmt.Errorf("format raw: the camera offers no raw YUYV mode (it has %s)", fourccs(modes))
		}
		return choice(configs.FormatRaw, *raw, w, h, fps, "raw as configured"), nil
	}
	switch {
	case mj == nil && raw == nil:
		return V4L2Choice{}, fmt.Errorf("the camera offers neither MJPEG nor raw YUYV (it has %s)", fourccs(modes))
	case raw == nil:
		return choice(configs.FormatMJPEG, *mj, w, h, fps, "the camera has no raw mode"), nil
	case mj == nil:
		return choice(configs.FormatRaw, *raw, w, h, fps, "the camera has no MJPEG mode"), nil
	}
	large := w*h > largePicture
	switch {
	case large && mjOK:
		return choice(configs.FormatMJPEG, *mj, w, h, fps, "MJPEG for a picture larger than 640x480"), nil
	case rawOK:
		return choice(configs.FormatRaw, *raw, w, h, fps, fmt.Sprintf("raw keeps %d fps at this size", fps)), nil
	case mjOK:
		return choice(configs.FormatMJPEG, *mj, w, h, fps, fmt.Sprintf("raw cannot do %d fps at this size", fps)), nil
	case raw.MaxRate() > mj.MaxRate():
		return choice(configs.FormatRaw, *raw, w, h, fps, "neither keeps the frame rate; raw is faster"), nil
	default:
		return choice(configs.FormatMJPEG, *mj, w, h, fps, "neither keeps the frame rate; MJPEG is as fast or faster"), nil
	}
}

// bestOfKind is the mode of one kind closest to what is wanted, and
// whether it keeps the wanted frame rate.
func bestOfKind(modes []V4L2Mode, kind string, w, h, fps int) (*V4L2Mode, bool) {
	var best *V4L2Mode
	rank := func(m V4L2Mode) (int, int) {
		fast := m.MaxRate() >= float64(fps) || len(m.Rates) == 0
		exact := m.Width == w && m.Height == h || m.Stepwise && m.Width >= w && m.Height >= h
		bigger := m.Width >= w && m.Height >= h
		var tier int
		switch {
		case exact && fast:
			tier = 0
		case bigger && fast:
			tier = 1
		case exact:
			tier = 2
		case fast:
			tier = 3
		default:
			tier = 4
		}
		// Within a tier: the smallest bigger picture, else the largest.
		size := area(m)
		if tier != 1 {
			size = -size
		}
		return tier, size
	}
	for i := range modes {
		if modes[i].Kind() != kind {
			continue
		}
		if best == nil {
			best = &modes[i]
			continue
		}
		t, s := rank(modes[i])
		bt, bs := rank(*best)
		if t < bt || t == bt && (s < bs || s == bs && modes[i].MaxRate() > best.MaxRate()) {
			best = &modes[i]
		}
	}
	if best == nil {
		return nil, false
	}
	t, _ := rank(*best)
	return best, t <= 1
}

func choice(f configs.CaptureFormat, m V4L2Mode, w, h, fps int, why string) V4L2Choice {
	c := V4L2Choice{Format: f, Width: m.Width, Height: m.Height, Why: why}
	if m.Stepwise { // any size up to the maximum: ask for the wanted one
		c.Width, c.Height = w, h
	}
	c.Rate = pickRate(m.Rates, fps)
	return c
}

// pickRate is the wanted rate if listed, else the lowest faster one, else
// the fastest; with no list, the wanted rate.
func pickRate(rates []Fraction, fps int) Fraction {
	want := float64(fps)
	var best Fraction
	for _, r := range rates {
		f := r.float()
		switch {
		case f == want:
			return r
		case f > want && (best.float() < want || f < best.float()):
			best = r
		case best.float() < want && f > best.float():
			best = r
		}
	}
	if best.Num == 0 {
		return Fraction{fps, 1}
	}
	return best
}
