package compositor

import (
	"strings"
	"testing"
	"time"

	"github.com/pipcam/pipcam/configs"
)

func installed(names ...string) func(string) bool {
	return func(f string) bool {
		for _, n := range names {
			if n == f {
				return true
			}
		}
		return false
	}
}

// The Pi's encoders do not exist on this machine: their choice and settings
// are checked here as logic; x264enc does the real encoding in the graph tests.
func TestChooseEncoder(t *testing.T) {
	tests := []struct {
		want      configs.EncoderElement
		installed []string
		got       configs.EncoderElement
		err       string
	}{
		{configs.EncoderAuto, []string{"x264enc", "omxh264enc", "v4l2h264enc"}, configs.EncoderV4L2, ""},
		{configs.EncoderAuto, []string{"x264enc", "omxh264enc"}, configs.EncoderOMX, ""},
		{configs.EncoderAuto, []string{"x264enc"}, configs.EncoderX264, ""},
		{configs.EncoderAuto, nil, "", "no H.264 encoder found (tried v4l2h264enc, omxh264enc, x264enc)"},
		{configs.EncoderX264, []string{"x264enc", "v4l2h264enc"}, configs.EncoderX264, ""},
		{configs.EncoderOMX, []string{"x264enc"}, "", "encoder omxh264enc is not installed"},
	}
	for _, tt := range tests {
		got, err := ChooseEncoder(tt.want, installed(tt.installed...))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s with %v: err %v, want %q", tt.want, tt.installed, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.got {
			t.Errorf("%s with %v: got %s, %v; want %s", tt.want, tt.installed, got, err, tt.got)
		}
	}
}

func TestEncoderSettings(t *testing.T) {
	enc := configs.Encoder{BitrateKbps: 300, KeyframeInterval: configs.Duration(2 * time.Second)}
	tests := []struct {
		el   configs.EncoderElement
		want []string
	}{
		{configs.EncoderX264, []string{
			"x264enc name=enc tune=zerolatency speed-preset=ultrafast bitrate=300 key-int-max=30 bframes=0 byte-stream=true threads=1",
			"video/x-h264,profile=constrained-baseline",
		}},
		{configs.EncoderV4L2, []string{
			`v4l2h264enc name=enc extra-controls="controls,video_bitrate=300000,video_bitrate_mode=1,h264_i_frame_period=30,h264_profile=1,h264_level=11,repeat_sequence_header=1"`,
			"video/x-h264,profile=constrained-baseline,level=(string)4",
		}},
		{configs.EncoderOMX, []string{
			"omxh264enc name=enc target-bitrate=300000 control-rate=variable periodicty-idr=30 interval-intraframes=30 inline-header=true",
			"video/x-h264,profile=baseline",
		}},
	}
	for _, tt := range tests {
		items := encoderChain(tt.el, enc, configs.Output{Width: 640, Height: 480, Framerate: 15})
		var d Description
		if err := d.Add(items...); err != nil {
			t.Fatalf("%s: %v", tt.el, err)
		}
		if got, want := d.String(), strings.Join(tt.want, " ! "); got != want {
			t.Errorf("%s:\n got  %s\n want %s", tt.el, got, want)
		}
	}
}

func TestBitrateSetting(t *testing.T) {
	tests := []struct {
		el   configs.EncoderElement
		prop string
		val  any
	}{
		{configs.EncoderX264, "bitrate", uint(250)},
		{configs.EncoderOMX, "target-bitrate", uint(250000)},
		{configs.EncoderV4L2, "extra-controls", "controls,video_bitrate=250000"},
	}
	for _, tt := range tests {
		prop, val := bitrateSetting(tt.el, 250)
		if prop != tt.prop || val != tt.val {
			t.Errorf("%s: got %s=%v, want %s=%v", tt.el, prop, val, tt.prop, tt.val)
		}
	}
}

// x264 encodes a picture up to 720p on one thread: one slice per frame.
// Above, it keeps zerolatency's sliced threads.
func TestX264ThreadsFollowThePictureSize(t *testing.T) {
	enc := configs.Encoder{BitrateKbps: 300, KeyframeInterval: configs.Duration(2 * time.Second)}
	for _, tt := range []struct {
		out     configs.Output
		threads bool
	}{
		{configs.Output{Width: 1280, Height: 720, Framerate: 30}, true},
		{configs.Output{Width: 1920, Height: 1080, Framerate: 30}, false},
	} {
		var d Description
		if err := d.Add(encoderChain(configs.EncoderX264, enc, tt.out)...); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(d.String(), "threads=1"); got != tt.threads {
			t.Errorf("%dx%d: %s; want threads=1: %v", tt.out.Width, tt.out.Height, d.String(), tt.threads)
		}
	}
}
