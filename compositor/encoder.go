package compositor

import (
	"fmt"
	"strings"

	"github.com/pipcam/pipcam/configs"
)

// encoderPreference is the order "auto" tries: the Pi's hardware encoders
// first (v4l2 on current Raspberry Pi OS, OMX on older), software last.
var encoderPreference = []configs.EncoderElement{
	configs.EncoderV4L2, configs.EncoderOMX, configs.EncoderX264,
}

// ChooseEncoder resolves the configured element to one that exists, asking
// exists (the GStreamer registry in production) for each candidate.
func ChooseEncoder(want configs.EncoderElement, exists func(factory string) bool) (configs.EncoderElement, error) {
	if want != configs.EncoderAuto && want != "" {
		if !exists(string(want)) {
			return "", fmt.Errorf("encoder %s is not installed (gst-inspect-1.0 %s finds nothing)", want, want)
		}
		return want, nil
	}
	var tried []string
	for _, e := range encoderPreference {
		if exists(string(e)) {
			return e, nil
		}
		tried = append(tried, string(e))
	}
	return "", fmt.Errorf("no H.264 encoder found (tried %s): install gstreamer1.0-plugins-ugly for x264enc", strings.Join(tried, ", "))
}

// encoderChain is the encoder element and the caps that fix its output: the
// constrained-baseline profile every browser decodes, at the configured
// bitrate, with an IDR at least every KeyframeInterval.
func encoderChain(el configs.EncoderElement, enc configs.Encoder, out configs.Output) []Item {
	fps := out.Framerate
	gop := max(int(enc.KeyframeInterval.D().Seconds()*float64(fps)+0.5), 1)
	kbps := enc.BitrateKbps
	switch el {
	case configs.EncoderV4L2:
		// The bcm2835 codec takes its settings as V4L2 controls; it wants
		// its profile and level in the downstream caps.
		return []Item{
			Element{Factory: "v4l2h264enc", Name: nameEncoder, Props: []Prop{
				{"extra-controls", Str(v4l2Controls(kbps, gop))},
			}},
			Caps{Media: "video/x-h264", Fields: []Prop{
				{"profile", Enum("constrained-baseline")},
				{"level", Typed{"string", Enum("4")}},
			}},
		}
	case configs.EncoderOMX:
		return []Item{
			Element{Factory: "omxh264enc", Name: nameEncoder, Props: []Prop{
				{"target-bitrate", Int(kbps * 1000)},
				{"control-rate", Enum("variable")},
				{"periodicty-idr", Int(gop)}, // sic: the element's own spelling
				{"interval-intraframes", Int(gop)},
				{"inline-header", Bool(true)},
			}},
			Caps{Media: "video/x-h264", Fields: []Prop{{"profile", Enum("baseline")}}},
		}
	default:
		props := []Prop{
			{"tune", Enum("zerolatency")},
			{"speed-preset", Enum("ultrafast")},
			{"bitrate", Int(kbps)},
			{"key-int-max", Int(gop)},
			{"bframes", Int(0)},
			{"byte-stream", Bool(true)},
		}
		if out.Width*out.Height <= singleSliceMaxPixels {
			props = append(props, Prop{"threads", Int(1)})
		}
		return []Item{
			Element{Factory: "x264enc", Name: nameEncoder, Props: props},
			Caps{Media: "video/x-h264", Fields: []Prop{{"profile", Enum("constrained-baseline")}}},
		}
	}
}

// singleSliceMaxPixels is the largest picture x264 encodes on one thread.
// zerolatency's threads are sliced threads: each cuts every frame into one
// slice per thread, and each slice is its own NAL unit and its own RTP
// packets, so every viewer gets more, smaller packets (at 640x480 and 400
// kbit/s on 2 cores: 4.1 packets in 2 GSO messages per frame per viewer,
// against 3.1 in 1 on one thread), and slices cost bits. A frame of 720p
// or less encodes on one thread in a few milliseconds (ultrafast); larger
// ones keep the threads, for speed.
const singleSliceMaxPixels = 1280 * 720

// v4l2Controls is the extra-controls structure for v4l2h264enc: constant
// bitrate (mode 1) because weak WiFi wants a steady rate, profile 1 is
// constrained baseline, level 11 is 4.0, and repeat_sequence_header puts
// SPS/PPS on every IDR.
func v4l2Controls(kbps, gop int) string {
	return fmt.Sprintf("controls,video_bitrate=%d,video_bitrate_mode=1,h264_i_frame_period=%d,h264_profile=1,h264_level=11,repeat_sequence_header=1", kbps*1000, gop)
}

// bitrateSetting says how to change the bitrate of a running encoder: the
// property and the value to give it.
func bitrateSetting(el configs.EncoderElement, kbps int) (prop string, value any) {
	switch el {
	case configs.EncoderV4L2:
		return "extra-controls", fmt.Sprintf("controls,video_bitrate=%d", kbps*1000)
	case configs.EncoderOMX:
		return "target-bitrate", uint(kbps * 1000)
	default:
		return "bitrate", uint(kbps)
	}
}
