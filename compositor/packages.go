package compositor

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// elementPackages says which Debian / Raspberry Pi OS package ships each
// element factory a graph may use. It is the one list behind the start-up
// check, `scripts/deps.sh` (a test keeps them in step) and the .deb's
// dependencies: an element added to a graph without its package here fails
// a test, not a user.
var elementPackages = map[string]string{
	// GStreamer core (libgstcoreelements)
	"capsfilter": "libgstreamer1.0-0",
	"identity":   "libgstreamer1.0-0",
	"queue":      "libgstreamer1.0-0",
	"tee":        "libgstreamer1.0-0",
	"valve":      "libgstreamer1.0-0",
	"fdsink":     "libgstreamer1.0-0", // recordings
	// plugins-base
	"appsink":       "gstreamer1.0-plugins-base",
	"appsrc":        "gstreamer1.0-plugins-base",
	"compositor":    "gstreamer1.0-plugins-base",
	"tcpserversink": "gstreamer1.0-plugins-base",
	"videoconvert":  "gstreamer1.0-plugins-base",
	"videorate":     "gstreamer1.0-plugins-base",
	"videoscale":    "gstreamer1.0-plugins-base",
	"videotestsrc":  "gstreamer1.0-plugins-base",
	"audiotestsrc":  "gstreamer1.0-plugins-base", // push: the silent audio
	"videoflip":     "gstreamer1.0-plugins-good",
	"videocrop":     "gstreamer1.0-plugins-good",
	// the pango plugin is not in plugins-base on Debian
	"textoverlay": "gstreamer1.0-x",
	// plugins-good
	"flvmux":         "gstreamer1.0-plugins-good",
	"mp4mux":         "gstreamer1.0-plugins-good", // recordings
	"jpegdec":        "gstreamer1.0-plugins-good",
	"jpegenc":        "gstreamer1.0-plugins-good",
	"multipartdemux": "gstreamer1.0-plugins-good",
	"souphttpsrc":    "gstreamer1.0-plugins-good",
	"rtspsrc":        "gstreamer1.0-plugins-good",
	"rtph264depay":   "gstreamer1.0-plugins-good",
	"v4l2src":        "gstreamer1.0-plugins-good",
	// v4l2h264enc and v4l2jpegdec register only where a V4L2 memory-to-memory
	// codec exists (the Pi's bcm2835-codec); the plugin is plugins-good.
	"v4l2h264enc": "gstreamer1.0-plugins-good",
	"v4l2jpegdec": "gstreamer1.0-plugins-good",
	"v4l2h264dec": "gstreamer1.0-plugins-good",
	// plugins-bad; the inter elements join each camera's pipeline to the
	// mixer's
	"h264parse":      "gstreamer1.0-plugins-bad",
	"intervideosink": "gstreamer1.0-plugins-bad",
	"intervideosrc":  "gstreamer1.0-plugins-bad",
	"rtmp2sink":      "gstreamer1.0-plugins-bad", // push
	"voaacenc":       "gstreamer1.0-plugins-bad", // push: the silent audio
	// libav: the software H.264 decoder for RTSP cameras
	"avdec_h264": "gstreamer1.0-libav",
	// the Pi camera module through libcamera
	"libcamerasrc": "gstreamer1.0-libcamera",
	// plugins-ugly
	"x264enc": "gstreamer1.0-plugins-ugly",
	// Raspberry Pi OS Buster and older only: the OMX IL encoder.
	"omxh264enc": "gstreamer1.0-omx-rpi",
}

// hardwareOnly are elements that cannot exist on a machine without the
// Pi's hardware (or, for libcamerasrc, its camera stack: the package does
// not install on Debian 12 here), so their package is not installed by
// scripts/deps.sh.
var hardwareOnly = []string{"v4l2h264enc", "v4l2jpegdec", "v4l2h264dec", "omxh264enc", "libcamerasrc"}

// PackageOf returns the package that ships an element factory ("" if the
// factory is not one pipcam uses).
func PackageOf(factory string) string { return elementPackages[factory] }

// RuntimePackages lists the packages a graph on a machine without the Pi's
// hardware encoder needs, sorted: what scripts/deps.sh and the .deb install.
func RuntimePackages() []string {
	var pkgs []string
	for f, p := range elementPackages {
		if !slices.Contains(hardwareOnly, f) && !slices.Contains(pkgs, p) {
			pkgs = append(pkgs, p)
		}
	}
	slices.Sort(pkgs)
	return pkgs
}

// ErrMissingElements is wrapped by CheckElements' error.
var ErrMissingElements = errors.New("GStreamer elements missing")

// CheckElements reports every element of the plan that is not installed,
// each with the package to install, e.g.
// "textoverlay: not installed (apt install gstreamer1.0-x)".
func CheckElements(p *Plan, exists func(string) bool) error {
	return checkFactories(p.Factories(), exists)
}

// Factories lists every element factory the plan may start: its pipelines'
// and the cameras' cards'.
func (p *Plan) Factories() []string {
	out := p.Description.Factories()
	for _, cp := range p.Cameras {
		if d, err := cardDescription(cp); err == nil {
			for _, f := range d.Factories() {
				if !slices.Contains(out, f) {
					out = append(out, f)
				}
			}
		}
	}
	return out
}

// checkFactories is CheckElements for a list of factories.
func checkFactories(factories []string, exists func(string) bool) error {
	var missing []string
	seen := map[string]bool{}
	for _, f := range factories {
		if seen[f] || exists(f) {
			continue
		}
		seen[f] = true
		pkg := PackageOf(f)
		if pkg == "" {
			pkg = "the package that ships it"
		}
		missing = append(missing, fmt.Sprintf("%s: not installed (apt install %s)", f, pkg))
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrMissingElements, strings.Join(missing, "; "))
}
