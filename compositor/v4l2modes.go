package compositor

import (
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// V4L2Mode is one picture mode a V4L2 camera offers: a pixel format at a
// size, with the frame rates it can do there.
type V4L2Mode struct {
	// FourCC is V4L2's name of the pixel format: MJPG, YUYV, H264, RG10...
	FourCC string
	Width  int
	Height int
	// Stepwise: the camera takes any size up to Width x Height (a CSI
	// receiver such as unicam, not a sensor's real modes).
	Stepwise bool
	// Rates are the frame rates at this size; empty when not listed.
	Rates []Fraction
}

// Kind is how pipcam treats the mode's format: "mjpeg", "raw" (YUYV, the
// raw format every UVC camera has) or "" (a format pipcam does not take).
func (m V4L2Mode) Kind() string {
	switch m.FourCC {
	case "MJPG", "JPEG":
		return "mjpeg"
	case "YUYV":
		return "raw"
	}
	return ""
}

// MaxRate is the highest frame rate the mode lists (0 when none).
func (m V4L2Mode) MaxRate() float64 {
	best := 0.0
	for _, r := range m.Rates {
		best = max(best, r.float())
	}
	return best
}

func (m V4L2Mode) String() string {
	return fmt.Sprintf("%s %dx%d at %s fps", m.Kind(), m.Width, m.Height, rateText(m.MaxRate()))
}

func (f Fraction) float() float64 {
	if f.Den == 0 {
		return 0
	}
	return float64(f.Num) / float64(f.Den)
}

// rateText prints 30 as "30" and 7.5 as "7.5".
func rateText(r float64) string { return strconv.FormatFloat(r, 'f', -1, 64) }

// bayerFormats are V4L2's raw sensor formats. A node that lists them is a
// camera receiver (unicam, rp1-cfe) whose sensor only libcamera drives:
// the other formats it lists are what the receiver could store, not what
// the sensor makes.
var bayerFormats = strings.Fields("BA81 GBRG GRBG RGGB pBAA pGAA pgAA pRAA BG10 GB10 BA10 RG10 " +
	"pBCC pGCC pgCC pRCC BG12 GB12 BA12 RG12 pBEE pGEE pgEE pREE BG14 GB14 GR14 RG14 BYR2 GB16 GR16 RG16")

func bayer(fourcc string) bool { return slices.Contains(bayerFormats, fourcc) }

var (
	// [0]: 'YUYV' (YUYV 4:2:2)   or   Pixel Format: 'MJPG' (compressed)
	fmtLineRe  = regexp.MustCompile(`^(?:\[\d+\]:|Pixel Format:)\s*'(.{4})'`)
	discreteRe = regexp.MustCompile(`^Size: Discrete (\d+)x(\d+)`)
	stepwiseRe = regexp.MustCompile(`^Size: Stepwise \d+x\d+ - (\d+)x(\d+)`)
	intervalRe = regexp.MustCompile(`^Interval: Discrete [0-9.]+s \(([0-9.]+) fps\)`)
)

// ParseV4L2Ctl reads the output of `v4l2-ctl --list-formats-ext`, in the
// layout of current v4l-utils ("[0]: 'YUYV' (YUYV 4:2:2)") or of older
// ones ("Pixel Format: 'YUYV'"), into modes, in the order listed. Lines it
// does not know (and "#" comments) are skipped.
func ParseV4L2Ctl(text string) []V4L2Mode {
	var modes []V4L2Mode
	fourcc := ""
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if m := fmtLineRe.FindStringSubmatch(line); m != nil {
			fourcc = strings.TrimSpace(m[1])
			continue
		}
		if fourcc == "" {
			continue
		}
		if m := discreteRe.FindStringSubmatch(line); m != nil {
			modes = append(modes, V4L2Mode{FourCC: fourcc, Width: atoi(m[1]), Height: atoi(m[2])})
		} else if m := stepwiseRe.FindStringSubmatch(line); m != nil {
			modes = append(modes, V4L2Mode{FourCC: fourcc, Width: atoi(m[1]), Height: atoi(m[2]), Stepwise: true})
		} else if m := intervalRe.FindStringSubmatch(line); m != nil && len(modes) > 0 {
			last := &modes[len(modes)-1]
			last.Rates = append(last.Rates, fpsFraction(m[1]))
		}
	}
	return modes
}

// fpsFraction turns v4l2-ctl's "7.500" into 15/2.
func fpsFraction(s string) Fraction {
	r, ok := new(big.Rat).SetString(s)
	if !ok || !r.Num().IsInt64() || !r.Denom().IsInt64() {
		return Fraction{}
	}
	return Fraction{int(r.Num().Int64()), int(r.Denom().Int64())}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

var (
	capsIntRe   = regexp.MustCompile(`\b(width|height)=\(int\)(\d+)`)
	capsRangeRe = regexp.MustCompile(`\b(width|height)=\(int\)\[\s*\d+,\s*(\d+)\s*\]`)
	capsFmtRe   = regexp.MustCompile(`\bformat=\(string\)([A-Za-z0-9_]+)`)
	capsRateRe  = regexp.MustCompile(`\bframerate=\(fraction\)(\{[^}]*\}|\[[^\]]*\]|\d+/\d+)`)
	fractionRe  = regexp.MustCompile(`(\d+)/(\d+)`)
)

// gstV4L2Formats maps GStreamer's raw format names to V4L2's.
var gstV4L2Formats = map[string]string{"YUY2": "YUYV", "UYVY": "UYVY", "I420": "YU12", "NV12": "NV12", "GRAY8": "GREY"}

// ParseV4L2Caps reads the caps v4l2src reports for a device (one
// structure each, as GstStructure text) into modes. Bayer caps
// (video/x-bayer) keep a Bayer FourCC so a raw sensor node is recognised.
func ParseV4L2Caps(structs []string) []V4L2Mode {
	var modes []V4L2Mode
	for _, s := range structs {
		media, _, _ := strings.Cut(s, ",")
		var m V4L2Mode
		switch strings.TrimSpace(media) {
		case "image/jpeg":
			m.FourCC = "MJPG"
		case "video/x-h264":
			m.FourCC = "H264"
		case "video/x-bayer":
			m.FourCC = "BA81"
		case "video/x-raw":
			f := capsFmtRe.FindStringSubmatch(s)
			if f == nil {
				continue
			}
			m.FourCC = gstV4L2Formats[f[1]]
			if m.FourCC == "" {
				m.FourCC = f[1]
			}
		default:
			continue
		}
		for _, d := range capsIntRe.FindAllStringSubmatch(s, -1) {
			setDim(&m, d[1], atoi(d[2]))
		}
		for _, d := range capsRangeRe.FindAllStringSubmatch(s, -1) {
			setDim(&m, d[1], atoi(d[2]))
			m.Stepwise = true
		}
		if r := capsRateRe.FindStringSubmatch(s); r != nil && !strings.HasPrefix(r[1], "[") {
			for _, f := range fractionRe.FindAllStringSubmatch(r[1], -1) {
				if fr := (Fraction{atoi(f[1]), atoi(f[2])}); fr.Num > 0 {
					m.Rates = append(m.Rates, fr)
				}
			}
		}
		if m.Width > 0 && m.Height > 0 {
			modes = append(modes, m)
		}
	}
	return modes
}

func setDim(m *V4L2Mode, key string, v int) {
	if key == "width" {
		m.Width = v
	} else {
		m.Height = v
	}
}

// BestV4L2Modes is the largest mode of each kind that still does 15
// frames a second (or, failing that, the fastest), for list-cameras.
func BestV4L2Modes(modes []V4L2Mode) (mjpeg, raw *V4L2Mode) {
	pick := func(kind string) *V4L2Mode {
		var best *V4L2Mode
		better := func(a, b V4L2Mode) bool {
			fa, fb := a.MaxRate() >= 15, b.MaxRate() >= 15
			if fa != fb {
				return fa
			}
			if area(a) != area(b) {
				return area(a) > area(b)
			}
			return a.MaxRate() > b.MaxRate()
		}
		for i := range modes {
			if modes[i].Kind() == kind && !modes[i].Stepwise && (best == nil || better(modes[i], *best)) {
				best = &modes[i]
			}
		}
		return best
	}
	return pick("mjpeg"), pick("raw")
}

func area(m V4L2Mode) int { return m.Width * m.Height }

// fourccs lists the distinct formats, for messages.
func fourccs(modes []V4L2Mode) string {
	var out []string
	for _, m := range modes {
		if !slices.Contains(out, m.FourCC) {
			out = append(out, m.FourCC)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}
