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
		`intervideosrc name=in1 channel="pipcam-cam1" timeout=4000000000 ! video/x-raw,format=I420,width=640,height=480,pixel-aspect-ratio=1/1,framerate=30/1 ! mix.sink_1`,
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
