package compositor

import (
	"fmt"
	"time"

	"github.com/pipcam/pipcam/configs"
)

// A camera's pipeline is its source chain (one per camera type, in the
// source_*.go files), the picture normalised for the mixer (size, crop,
// turn, I420) and an intervideosink on the camera's channel. The mixer
// reads the channel with an intervideosrc, a live source at the output
// rate that repeats the latest picture: a camera can be torn down and
// rebuilt while the mixer, the encoder and every viewer carry on.

// cameraChain renders one camera's pipeline. mode is the V4L2 mode chosen
// from the modes the camera offers; nil renders the configured format
// (print-pipeline, or a camera not probed).
func cameraChain(cp CameraPlan, out configs.Output, p *Plan, mode *V4L2Choice) ([]Item, error) {
	var src []Item
	var fixed bool // the source delivers exactly the configured size
	var err error
	switch cp.Camera.Type {
	case configs.CameraTest:
		src, fixed = testChain(cp, out), true
	case configs.CameraV4L2:
		src, fixed = v4l2Chain(cp, out, p.JPEGDecoder, mode)
	case configs.CameraLibcamera:
		src, fixed = libcameraChain(cp, out), true
	case configs.CameraMJPEG:
		src = mjpegChain(cp, p.JPEGDecoder)
	case configs.CameraSnapshot:
		src = snapshotChain(cp, p.JPEGDecoder)
	case configs.CameraRTSP:
		src = rtspChain(cp, p.H264Decoder)
	default:
		err = fmt.Errorf("unsupported camera type %q", cp.Camera.Type)
	}
	if err != nil {
		return nil, err
	}
	return append(src, normalise(cp, out, fixed)...), nil
}

// normalise turns whatever the source delivers into the picture the mixer
// expects: scaled to the configured size (letterboxed, keeping its shape),
// cropped, turned, I420, then handed to the boundary.
func normalise(cp CameraPlan, out configs.Output, fixed bool) []Item {
	cam := cp.Camera
	w, h, _ := cam.EffectiveSize(out)
	var items []Item
	if !cam.Crop.IsZero() {
		// Crop counts pixels of the configured size: get there first.
		if !fixed {
			items = append(items, Element{Factory: "videoscale"}, Caps{Media: "video/x-raw", Fields: []Prop{
				{"width", Int(w)}, {"height", Int(h)}, {"pixel-aspect-ratio", Fraction{1, 1}},
			}})
		}
		items = append(items, Element{Factory: "videocrop", Props: []Prop{
			{"left", Int(cam.Crop.Left)}, {"right", Int(cam.Crop.Right)},
			{"top", Int(cam.Crop.Top)}, {"bottom", Int(cam.Crop.Bottom)},
		}})
	}
	if dir := videoDirection(cam.Rotate, cam.Flip); dir != "identity" {
		items = append(items, Element{Factory: "videoflip", Props: []Prop{{"video-direction", Enum(dir)}}})
	}
	return append(items,
		Element{Factory: "videoconvert"},
		Element{Factory: "videoscale"},
		pictureCaps(cp, 0),
		Element{Factory: "intervideosink", Name: cp.SinkName, Props: []Prop{
			{"channel", Str(cp.Channel)},
			// Hand each picture over as it comes: the mixer's side is the
			// clocked one.
			{"sync", Bool(false)},
		}},
	)
}

// pictureCaps is the picture the boundary carries, I420 at the camera's
// slot size; a rate of 0 leaves the rate free.
func pictureCaps(cp CameraPlan, fps int) Caps {
	fields := []Prop{
		{"format", Enum("I420")},
		{"width", Int(cp.Width)},
		{"height", Int(cp.Height)},
		{"pixel-aspect-ratio", Fraction{1, 1}},
	}
	if fps > 0 {
		fields = append(fields, Prop{"framerate", Fraction{fps, 1}})
	}
	return Caps{Media: "video/x-raw", Fields: fields}
}

// mixerInput brings a camera's channel into its compositor pad. The
// intervideosrc is a live source that repeats the latest picture while the
// camera sends none, for inputTimeout, so a short stall freezes the
// picture rather than blanking it; the camera's card takes over before.
//
// It runs at twice the output rate: it takes the channel's picture when it
// makes a buffer and then waits for that buffer's time, so at the output
// rate every picture would wait an output interval or more (measured 78 ms
// median at 15 fps); at twice the rate about half that (measured 36 ms).
// The mixer keeps the newest and drops the other; no pixels are copied.
func mixerInput(cp CameraPlan, outputFPS int) []Item {
	return []Item{
		Element{Factory: "intervideosrc", Name: cp.Input, Props: []Prop{
			{"channel", Str(cp.Channel)},
			{"timeout", Int(inputTimeout(cp.Camera))},
		}},
		pictureCaps(cp, 2*outputFPS),
		// intervideosrc answers the latency query with a maximum of 0:
		// without a buffer the mixer cannot configure its latency (it warns
		// "Impossible to configure latency" on every query) and mistimes.
		Element{Factory: "queue", Props: leakyQueue(2)},
		PadRef{Element: nameMixer, Pad: cp.Pad},
	}
}

// inputTimeout outlasts the camera's stall timeout and its teardown, so
// the card (not black) follows a frozen picture.
func inputTimeout(cam configs.Camera) time.Duration {
	return cam.StallAfter() + 2*time.Second
}

// videoDirection is videoflip's video-direction for a rotation (clockwise)
// followed by a flip, as one element.
func videoDirection(r configs.Rotation, f configs.Flip) string {
	type key struct {
		r configs.Rotation
		f configs.Flip
	}
	return map[key]string{
		{0, configs.FlipNone}: "identity", {0, configs.FlipHorizontal}: "horiz", {0, configs.FlipVertical}: "vert",
		{90, configs.FlipNone}: "90r", {90, configs.FlipHorizontal}: "ul-lr", {90, configs.FlipVertical}: "ur-ll",
		{180, configs.FlipNone}: "180", {180, configs.FlipHorizontal}: "vert", {180, configs.FlipVertical}: "horiz",
		{270, configs.FlipNone}: "90l", {270, configs.FlipHorizontal}: "ur-ll", {270, configs.FlipVertical}: "ul-lr",
		{0, ""}: "identity", {90, ""}: "90r", {180, ""}: "180", {270, ""}: "90l",
	}[key{r, f}]
}

// chooseDecoders picks the Pi's hardware decoders where they exist (the
// bcm2835 codec registers v4l2jpegdec and v4l2h264dec), else software:
// jpegdec, and avdec_h264 from gstreamer1.0-libav.
func chooseDecoders(exists func(string) bool) (jpeg, h264 string) {
	jpeg, h264 = "jpegdec", "avdec_h264"
	if exists("v4l2jpegdec") {
		jpeg = "v4l2jpegdec"
	}
	if exists("v4l2h264dec") {
		h264 = "v4l2h264dec"
	}
	return jpeg, h264
}

func decoder(factory string) Element {
	if factory == "avdec_h264" {
		// Frame threads would hold pictures back (one per thread): slice
		// threads only, for a live camera.
		return Element{Factory: factory, Props: []Prop{{"thread-type", Enum("slice")}}}
	}
	return Element{Factory: factory}
}

func testChain(cp CameraPlan, out configs.Output) []Item {
	w, h, fps := cp.Camera.EffectiveSize(out)
	return []Item{
		Element{Factory: "videotestsrc", Name: cp.SourceName, Props: []Prop{
			{"is-live", Bool(true)},
			{"pattern", Enum(string(cp.Camera.Pattern))},
		}},
		Caps{Media: "video/x-raw", Fields: []Prop{
			{"width", Int(w)},
			{"height", Int(h)},
			{"framerate", Fraction{fps, 1}},
		}},
	}
}
