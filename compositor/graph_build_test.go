package compositor

import (
	"strings"
	"testing"

	"github.com/pipcam/pipcam/configs"
)

// V4L2 cameras cannot run here (no devices); their branch of the graph is
// checked as rendered text. The real-pipeline tests run the test cameras.
func TestBuildV4L2Sources(t *testing.T) {
	cfg := configs.Default()
	cfg.Cameras[0] = configs.Camera{Name: "desk", Type: configs.CameraV4L2, Device: "/dev/v4l/by-id/usb-046d_C920-video-index0", Format: configs.FormatMJPEG, Width: 1280, Height: 720, Framerate: 30}
	cfg.Cameras[1] = configs.Camera{Name: "nozzle", Type: configs.CameraV4L2, Device: "/dev/video2", Format: configs.FormatRaw}
	cfg.Layout.Main, cfg.Layout.Inset = "desk", "nozzle"
	plan, err := Build(cfg, installed("x264enc"))
	if err != nil {
		t.Fatal(err)
	}
	line := plan.Description.String()
	for _, want := range []string{
		`v4l2src name=cam0 device="/dev/v4l/by-id/usb-046d_C920-video-index0" do-timestamp=true ! image/jpeg,width=1280,height=720,framerate=30/1 ! jpegdec ! videoconvert ! videoscale ! video/x-raw,format=I420,width=1280,height=720,pixel-aspect-ratio=1/1 ! intervideosink name=cam0out channel="pipcam-cam0" sync=false`,
		`v4l2src name=cam1 device="/dev/video2" do-timestamp=true ! video/x-raw,format=YUY2,width=640,height=480,framerate=15/1 ! videoconvert ! videoscale ! video/x-raw,format=I420,width=640,height=480,pixel-aspect-ratio=1/1 ! intervideosink name=cam1out channel="pipcam-cam1" sync=false`,
		// Each camera comes into the mixer from its channel, at twice the output rate.
		`intervideosrc name=in1 channel="pipcam-cam1" timeout=4000000000 ! video/x-raw,format=I420,width=640,height=480,pixel-aspect-ratio=1/1,framerate=30/1 ! queue max-size-buffers=2 max-size-bytes=0 max-size-time=0 leaky=downstream ! mix.sink_1`,
		// 16:9 main letterboxed in 4:3: 640x360 at y=60.
		"sink_0::xpos=0 sink_0::ypos=60 sink_0::width=640 sink_0::height=360",
	} {
		if !strings.Contains(line, want) {
			t.Errorf("graph lacks %q\n%s", want, line)
		}
	}
	if plan.Cameras[0].SourceName != "cam0" || plan.Cameras[1].Pad != "sink_1" || plan.Cameras[1].Input != "in1" {
		t.Fatalf("plan %+v", plan.Cameras)
	}
}

func TestBuildNamesTheMissingEncoder(t *testing.T) {
	cfg := configs.Default()
	if _, err := Build(cfg, installed()); err == nil || !strings.Contains(err.Error(), "no H.264 encoder") {
		t.Fatalf("err %v", err)
	}
}

// Every other source kind, rendered: the Pi camera (libcamerasrc is not
// installable here), the IP cameras, and the picture corrections.
func TestBuildOtherSources(t *testing.T) {
	for _, tt := range []struct {
		name    string
		cam     configs.Camera
		onPi    bool
		want    []string
		notWant []string
	}{
		{"libcamera", configs.Camera{Type: configs.CameraLibcamera, Device: "/base/soc/i2c0mux/i2c@1/imx708@1a", Width: 1280, Height: 720, Framerate: 30}, true,
			[]string{`libcamerasrc name=cam0 camera-name="/base/soc/i2c0mux/i2c@1/imx708@1a" ! video/x-raw,width=1280,height=720,framerate=30/1 ! videoconvert ! videoscale ! video/x-raw,format=I420,width=1280,height=720`}, nil},
		{"mjpeg", configs.Camera{Type: configs.CameraMJPEG, URL: "http://10.0.0.5:81/stream", Username: "admin", Password: "s3cret"}, false,
			[]string{`souphttpsrc name=cam0 location="http://10.0.0.5:81/stream" is-live=true do-timestamp=true retries=0 user-id="admin" ! multipartdemux single-stream=true ! image/jpeg ! jpegdec ! videoconvert`},
			[]string{"s3cret", "user-pw"}},
		{"mjpeg on a Pi", configs.Camera{Type: configs.CameraMJPEG, URL: "http://cam/stream"}, true,
			[]string{`! image/jpeg ! v4l2jpegdec ! videoconvert`}, nil},
		{"snapshot", configs.Camera{Type: configs.CameraSnapshot, URL: "http://cam/capture", Framerate: 2}, false,
			[]string{`appsrc name=cam0 is-live=true do-timestamp=true format=time caps="image/jpeg" max-buffers=1 leaky-type=downstream ! jpegdec ! videoconvert`}, nil},
		{"rtsp tcp", configs.Camera{Type: configs.CameraRTSP, URL: "rtsp://10.0.0.6/stream1", Transport: configs.TransportTCP, Password: "pw", Username: "u"}, false,
			[]string{`rtspsrc name=cam0 location="rtsp://10.0.0.6/stream1" protocols=tcp latency=100 user-id="u" ! rtph264depay ! h264parse ! avdec_h264 thread-type=slice ! videoconvert`},
			[]string{"user-pw"}},
		{"rtsp udp on a Pi", configs.Camera{Type: configs.CameraRTSP, URL: "rtsp://10.0.0.6/stream1", Transport: configs.TransportUDP}, true,
			[]string{`protocols=udp latency=100 ! rtph264depay ! h264parse ! v4l2h264dec ! videoconvert`}, nil},
		// An IP camera's picture is scaled to its size before the crop
		// (counted in that size), then turned.
		{"crop and turn", configs.Camera{Type: configs.CameraMJPEG, URL: "http://cam/s", Width: 640, Height: 480, Crop: configs.Crop{Left: 80, Right: 80}, Rotate: 270, Flip: configs.FlipHorizontal}, false,
			[]string{`jpegdec ! videoscale ! video/x-raw,width=640,height=480,pixel-aspect-ratio=1/1 ! videocrop left=80 right=80 top=0 bottom=0 ! videoflip video-direction=ur-ll ! videoconvert ! videoscale ! video/x-raw,format=I420,width=480,height=480`}, nil},
		{"rotate only, fixed source", configs.Camera{Type: configs.CameraTest, Pattern: configs.PatternBall, Width: 320, Height: 240, Rotate: 180}, false,
			[]string{`video/x-raw,width=320,height=240,framerate=15/1 ! videoflip video-direction=180 ! videoconvert`}, []string{"videocrop"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := configs.Default()
			cam := tt.cam
			cam.Name = "a"
			cfg.Cameras[0] = cam
			exists := func(f string) bool {
				return tt.onPi || (f != "v4l2jpegdec" && f != "v4l2h264dec" && f != "v4l2h264enc")
			}
			plan, err := Build(cfg, exists)
			if err != nil {
				t.Fatal(err)
			}
			line := plan.Description.Part("cam0").String()
			for _, w := range tt.want {
				if !strings.Contains(line, w) {
					t.Errorf("camera pipeline lacks\n  %s\n%s", w, line)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(plan.Description.String(), w) {
					t.Errorf("graph has %q:\n%s", w, line)
				}
			}
		})
	}
}

// The camera parts and the mixer part split one description: each camera
// its own pipeline, the mixer without them.
func TestDescriptionParts(t *testing.T) {
	plan, err := Build(configs.Default(), installed("x264enc"))
	if err != nil {
		t.Fatal(err)
	}
	mix, cam1 := plan.Description.Part("").String(), plan.Description.Part("cam1").String()
	if strings.Contains(mix, "videotestsrc name=cam") || !strings.Contains(mix, "intervideosrc name=in1") {
		t.Errorf("mixer part:\n%s", mix)
	}
	if !strings.HasPrefix(cam1, "videotestsrc name=cam1") || strings.Contains(cam1, "compositor") || strings.Contains(cam1, "cam0") {
		t.Errorf("camera part:\n%s", cam1)
	}
	if len(plan.Description.Part("").Lines())+len(plan.Description.Part("cam0").Lines())+len(plan.Description.Part("cam1").Lines()) != len(plan.Description.Lines()) {
		t.Error("the parts do not add up to the whole")
	}
}
