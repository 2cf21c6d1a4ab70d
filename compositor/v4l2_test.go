package compositor

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-gst/go-gst/gst"

	"github.com/pipcam/pipcam/configs"
)

// V4L2 hardware cannot be attached here: the format choice is tested on
// real `v4l2-ctl --list-formats-ext` outputs (testdata/v4l2, each with its
// source), and each chosen branch is rendered as the camera's pipeline.

func modesOf(t *testing.T, file string) []V4L2Mode {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "v4l2", file))
	if err != nil {
		t.Fatal(err)
	}
	return ParseV4L2Ctl(string(b))
}

const (
	c920     = "logitech-c920.txt"
	c270     = "logitech-c310-as-c270.txt"
	piCam    = "pi-camera-module-3-unicam.txt"
	mjpgOnly = "usb-mjpeg-only.txt"
)

func TestParseV4L2CtlOutputs(t *testing.T) {
	for _, tt := range []struct {
		file  string
		modes int
		first V4L2Mode
	}{
		{c920, 19 + 17 + 17, V4L2Mode{FourCC: "YUYV", Width: 640, Height: 480}},
		{c270, 19 + 19, V4L2Mode{FourCC: "YUYV", Width: 640, Height: 480}},
		{piCam, 51, V4L2Mode{FourCC: "YUYV", Width: 16376, Height: 16376, Stepwise: true}},
		{mjpgOnly, 2, V4L2Mode{FourCC: "MJPG", Width: 1280, Height: 720}},
	} {
		modes := modesOf(t, tt.file)
		if len(modes) != tt.modes {
			t.Errorf("%s: %d modes, want %d", tt.file, len(modes), tt.modes)
			continue
		}
		m := modes[0]
		if m.FourCC != tt.first.FourCC || m.Width != tt.first.Width || m.Height != tt.first.Height || m.Stepwise != tt.first.Stepwise {
			t.Errorf("%s: first mode %+v, want %+v", tt.file, m, tt.first)
		}
	}
	// 7.500 fps is 15/2, not rounded.
	for _, m := range modesOf(t, c270) {
		if m.FourCC == "YUYV" && m.Width == 1280 && m.Height == 720 {
			if len(m.Rates) != 2 || m.Rates[0] != (Fraction{15, 2}) || m.Rates[1] != (Fraction{5, 1}) {
				t.Errorf("C270 YUYV 1280x720 rates %v, want 15/2 and 5/1", m.Rates)
			}
		}
	}
}

func TestChooseV4L2Mode(t *testing.T) {
	type want struct {
		format configs.CaptureFormat
		w, h   int
		rate   Fraction
	}
	tests := []struct {
		name    string
		file    string
		format  configs.CaptureFormat
		w, h    int
		fps     int
		want    want
		wantErr string
	}{
		// Logitech C920: raw for small pictures, MJPEG from 720p.
		{"C920 VGA 15", c920, "auto", 640, 480, 15, want{"raw", 640, 480, Fraction{15, 1}}, ""},
		{"C920 VGA 30", c920, "auto", 640, 480, 30, want{"raw", 640, 480, Fraction{30, 1}}, ""},
		{"C920 QVGA", c920, "auto", 320, 240, 15, want{"raw", 320, 240, Fraction{15, 1}}, ""},
		{"C920 720p30", c920, "auto", 1280, 720, 30, want{"mjpeg", 1280, 720, Fraction{30, 1}}, ""},
		// Raw could do 10 fps at 720p, but two raw 720p cameras do not fit
		// on USB 2.0: MJPEG above 640x480.
		{"C920 720p10", c920, "auto", 1280, 720, 10, want{"mjpeg", 1280, 720, Fraction{10, 1}}, ""},
		{"C920 800x600", c920, "auto", 800, 600, 30, want{"mjpeg", 800, 600, Fraction{30, 1}}, ""},
		{"C920 1080p", c920, "auto", 1920, 1080, 30, want{"mjpeg", 1920, 1080, Fraction{30, 1}}, ""},
		// A size it lacks: the smallest larger one, scaled down.
		{"C920 1024x768", c920, "auto", 1024, 768, 15, want{"mjpeg", 1600, 896, Fraction{15, 1}}, ""},
		{"C920 raw forced 720p30", c920, "raw", 1280, 720, 30, want{"raw", 1280, 720, Fraction{10, 1}}, ""},
		{"C920 mjpeg forced VGA", c920, "mjpeg", 640, 480, 15, want{"mjpeg", 640, 480, Fraction{15, 1}}, ""},

		// Logitech C270 (its C310 twin's listing).
		{"C270 VGA 30", c270, "auto", 640, 480, 30, want{"raw", 640, 480, Fraction{30, 1}}, ""},
		{"C270 720p", c270, "auto", 1280, 720, 30, want{"mjpeg", 1280, 720, Fraction{30, 1}}, ""},
		{"C270 960p", c270, "auto", 1280, 960, 15, want{"mjpeg", 1280, 960, Fraction{15, 1}}, ""},
		{"C270 960x720", c270, "auto", 960, 720, 15, want{"mjpeg", 960, 720, Fraction{15, 1}}, ""},
		// 7.5 fps is the best raw 720p it has.
		{"C270 raw forced 720p", c270, "raw", 1280, 720, 15, want{"raw", 1280, 720, Fraction{15, 2}}, ""},
		// Raw 352x288 keeps 30 fps; no reason to decode JPEG.
		{"C270 CIF", c270, "auto", 352, 288, 30, want{"raw", 352, 288, Fraction{30, 1}}, ""},

		// A cheap MJPEG-only camera.
		{"MJPEG-only VGA", mjpgOnly, "auto", 640, 480, 15, want{"mjpeg", 800, 600, Fraction{15, 1}}, ""},
		{"MJPEG-only 1080p", mjpgOnly, "auto", 1920, 1080, 30, want{"mjpeg", 1280, 720, Fraction{30, 1}}, ""},
		{"MJPEG-only raw forced", mjpgOnly, "raw", 640, 480, 15, want{}, "offers no raw YUYV mode (it has MJPG)"},

		// The Pi camera module behind unicam lists YUYV too, at any size;
		// only libcamera can drive its sensor.
		{"Pi camera", piCam, "auto", 1280, 720, 30, want{}, "use type: libcamera"},
		{"Pi camera raw", piCam, "raw", 640, 480, 15, want{}, "use type: libcamera"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ChooseV4L2Mode(modesOf(t, tt.file), tt.format, tt.w, tt.h, tt.fps)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g := (want{got.Format, got.Width, got.Height, got.Rate}); g != tt.want {
				t.Fatalf("chose %v (%s), want %+v", g, got.Why, tt.want)
			}
		})
	}
}

// Each branch the choice can take, rendered as the camera's pipeline.
func TestV4L2BranchesRender(t *testing.T) {
	cam := configs.Camera{Name: "desk", Type: configs.CameraV4L2, Device: "/dev/v4l/by-id/usb-046d_HD_Pro_Webcam_C920_42B15FEF-video-index0", Format: configs.FormatAuto}
	out := configs.Output{Width: 640, Height: 480, Framerate: 15}
	for _, tt := range []struct {
		name     string
		w, h     int
		onPi     bool
		contains string
	}{
		{"raw", 640, 480, false, `v4l2src name=cam0 device="/dev/v4l/by-id/usb-046d_HD_Pro_Webcam_C920_42B15FEF-video-index0" do-timestamp=true ! video/x-raw,format=YUY2,width=640,height=480,framerate=15/1 ! videoconvert ! videoscale ! video/x-raw,format=I420,width=640,height=480,pixel-aspect-ratio=1/1 ! intervideosink`},
		{"mjpeg", 1280, 720, false, `! image/jpeg,width=1280,height=720,framerate=15/1 ! jpegdec ! videoconvert ! videoscale ! video/x-raw,format=I420,width=1280,height=720`},
		{"mjpeg on a Pi", 1280, 720, true, `! image/jpeg,width=1280,height=720,framerate=15/1 ! v4l2jpegdec ! videoconvert`},
		{"mjpeg larger, scaled down", 1024, 768, false, `! image/jpeg,width=1600,height=896,framerate=15/1 ! jpegdec ! videoconvert ! videoscale ! video/x-raw,format=I420,width=1024,height=768`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := cam
			c.Width, c.Height = tt.w, tt.h
			cfg := configs.Default()
			cfg.Cameras = []configs.Camera{c}
			cfg.Layout = configs.Layout{Mode: configs.LayoutSingle, Main: "desk", Corner: configs.CornerBottomRight, Size: 0.3}
			exists := func(f string) bool {
				return tt.onPi || (f != "v4l2jpegdec" && f != "v4l2h264dec" && f != "v4l2h264enc")
			}
			plan, err := Build(cfg, exists)
			if err != nil {
				t.Fatal(err)
			}
			mode, err := ChooseV4L2Mode(modesOf(t, c920), c.Format, tt.w, tt.h, 15)
			if err != nil {
				t.Fatal(err)
			}
			chain, err := cameraChain(plan.Cameras[0], out, plan, &mode)
			if err != nil {
				t.Fatal(err)
			}
			var d Description
			if err := d.Add(chain...); err != nil {
				t.Fatal(err)
			}
			if got := d.String(); !strings.Contains(got, tt.contains) {
				t.Fatalf("pipeline lacks\n  %s\n%s", tt.contains, got)
			}
		})
	}
}

// v4l2src's caps, as GStreamer itself prints them, read as modes.
func TestParseV4L2Caps(t *testing.T) {
	initGStreamer()
	var structs []string
	for _, c := range []string{
		"image/jpeg, width=(int)1280, height=(int)720, pixel-aspect-ratio=(fraction)1/1, framerate=(fraction){ 30/1, 15/1 }",
		"video/x-raw, format=(string)YUY2, width=(int)1280, height=(int)720, pixel-aspect-ratio=(fraction)1/1, framerate=(fraction){ 10/1, 15/2, 5/1 }",
		"video/x-raw, format=(string)YUY2, width=(int)640, height=(int)480, framerate=(fraction)30/1",
		"video/x-bayer, format=(string)rggb, width=(int)[ 16, 16376 ], height=(int)[ 16, 16376 ], framerate=(fraction)[ 0/1, 2147483647/1 ]",
		"video/x-h264, stream-format=(string)byte-stream, alignment=(string)au, width=(int)1920, height=(int)1080, framerate=(fraction)30/1",
	} {
		caps := gst.NewCapsFromString(c)
		if caps == nil {
			t.Fatalf("GStreamer does not parse %q", c)
		}
		structs = append(structs, caps.GetStructureAt(0).String())
	}
	modes := ParseV4L2Caps(structs)
	if len(modes) != 5 {
		t.Fatalf("%d modes from %v", len(modes), structs)
	}
	if m := modes[0]; m.FourCC != "MJPG" || m.Width != 1280 || len(m.Rates) != 2 || m.MaxRate() != 30 {
		t.Errorf("mjpeg mode %+v", m)
	}
	if m := modes[1]; m.FourCC != "YUYV" || m.Rates[1] != (Fraction{15, 2}) {
		t.Errorf("raw mode %+v", m)
	}
	if m := modes[3]; !m.Stepwise || !bayer(m.FourCC) || m.Width != 16376 {
		t.Errorf("bayer mode %+v", m)
	}
	if _, err := ChooseV4L2Mode(modes[3:4], "auto", 640, 480, 15); !errors.Is(err, ErrRawSensor) {
		t.Errorf("a Bayer-only node: %v", err)
	}
}

func TestBestModesAndConfigSnippet(t *testing.T) {
	mj, raw := BestV4L2Modes(modesOf(t, c920))
	if mj == nil || raw == nil || mj.Width != 1920 || mj.MaxRate() != 30 || raw.Width != 960 || raw.MaxRate() != 15 {
		t.Fatalf("best modes %v / %v, want mjpeg 1920x1080 at 30 and raw 960x720 at 15", mj, raw)
	}
	info := CameraInfo{Name: "HD Pro Webcam C920", Device: "/dev/video0",
		ByID: "/dev/v4l/by-id/usb-046d_HD_Pro_Webcam_C920_42B15FEF-video-index0", Modes: modesOf(t, c920)}
	snippet := info.ConfigSnippet()
	for _, want := range []string{
		"#   best mjpeg: 1920x1080 at 30 fps",
		"#   best raw:   960x720 at 15 fps",
		"  - name: hd-pro-webcam-c920\n    type: v4l2\n    device: /dev/v4l/by-id/usb-046d_HD_Pro_Webcam_C920_42B15FEF-video-index0\n    format: auto\n    width: 1920\n    height: 1080\n    framerate: 30\n",
	} {
		if !strings.Contains(snippet, want) {
			t.Errorf("snippet lacks %q:\n%s", want, snippet)
		}
	}
	// Pasted into a config, it parses (the by-id device need not exist).
	if _, err := configs.Parse([]byte("cameras:\n"+snippet), "snippet"); err != nil {
		t.Errorf("snippet does not parse: %v\n%s", err, snippet)
	}
	pi := CameraInfo{Name: "unicam", Device: "/dev/video0", Modes: modesOf(t, piCam)}
	if s := pi.ConfigSnippet(); !strings.Contains(s, "type: libcamera") {
		t.Errorf("Pi camera snippet:\n%s", s)
	}
}
