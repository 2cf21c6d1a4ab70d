package compositor

import (
	"github.com/pipcam/pipcam/configs"
)

// v4l2Chain captures a V4L2 camera in the chosen mode: MJPEG decoded, or
// raw YUYV. Without a chosen mode it asks for the configured size and rate
// (MJPEG for auto, what most webcams offer at useful sizes). fixed reports
// whether the camera delivers exactly the configured size.
func v4l2Chain(cp CameraPlan, out configs.Output, jpegDecoder string, mode *V4L2Choice) (items []Item, fixed bool) {
	w, h, fps := cp.Camera.EffectiveSize(out)
	c := V4L2Choice{Format: cp.Camera.Format, Width: w, Height: h, Rate: Fraction{fps, 1}}
	if c.Format == configs.FormatAuto || c.Format == "" {
		c.Format = configs.FormatMJPEG
	}
	if mode != nil {
		c = *mode
	}
	size := []Prop{
		{"width", Int(c.Width)},
		{"height", Int(c.Height)},
		{"framerate", c.Rate},
	}
	items = []Item{Element{Factory: "v4l2src", Name: cp.SourceName, Props: []Prop{
		{"device", Str(cp.Camera.Device)},
		{"do-timestamp", Bool(true)},
	}}}
	if c.Format == configs.FormatMJPEG {
		items = append(items, Caps{Media: "image/jpeg", Fields: size}, decoder(jpegDecoder))
	} else {
		items = append(items, Caps{Media: "video/x-raw", Fields: append([]Prop{{"format", Enum("YUY2")}}, size...)})
	}
	return items, c.Width == w && c.Height == h
}

// libcameraChain captures the Pi camera module through libcamera, which
// scales in its ISP to the size asked for.
func libcameraChain(cp CameraPlan, out configs.Output) []Item {
	w, h, fps := cp.Camera.EffectiveSize(out)
	src := Element{Factory: "libcamerasrc", Name: cp.SourceName}
	if cp.Camera.Device != "" {
		src.Props = []Prop{{"camera-name", Str(cp.Camera.Device)}}
	}
	return []Item{src, Caps{Media: "video/x-raw", Fields: []Prop{
		{"width", Int(w)},
		{"height", Int(h)},
		{"framerate", Fraction{fps, 1}},
	}}}
}
