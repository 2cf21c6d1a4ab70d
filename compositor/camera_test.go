package compositor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pipcam/pipcam/compositor/camtest"
	"github.com/pipcam/pipcam/configs"
	"github.com/pipcam/pipcam/media"
)

// These tests run cameras that come and go: real MJPEG and snapshot
// servers on loopback (camtest), each camera in its own pipeline.

var (
	green  = color.RGBA{0, 200, 0, 255}
	greenF = [3]float64{0, 200, 0}
	redF   = [3]float64{255, 0, 0}
)

// syncBuffer is a log destination that tests may read while the graph
// writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// insetArea is where the inset camera of ipConfig lands (size 0.5,
// bottom-right, margin 16, in 320x240): 160x120 at (144,104). The inner
// box checked leaves the edges (scaling, H.264) out.
var insetArea = [4]int{152, 112, 296, 216}

// mainArea is a part of the main camera the inset and the overlay miss.
var mainArea = [4]int{20, 40, 130, 100}

// ipConfig is testConfig with camera b an MJPEG camera at url.
func ipConfig(url string) *configs.Config {
	cfg := testConfig()
	cfg.Cameras[1] = configs.Camera{Name: "b", Type: configs.CameraMJPEG, URL: url, Width: 320, Height: 240}
	cfg.Layout.Size = 0.5
	return cfg
}

// pictureNow decodes a picture made after the call.
func pictureNow(t *testing.T, g *Graph, aus <-chan media.AccessUnit) []byte {
	t.Helper()
	var stream bytes.Buffer
	for _, au := range fromKeyframe(t, g, aus, 2) {
		stream.Write(au.Data)
	}
	pics, err := camtest.Decode(stream.Bytes(), 320, 240)
	if err != nil {
		t.Fatal(err)
	}
	return pics[len(pics)-1]
}

// waitPicture decodes pictures until cond holds for box, failing after d.
func waitPicture(t *testing.T, g *Graph, aus <-chan media.AccessUnit, d time.Duration, what string, box [4]int, cond func(camtest.Region) bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		r := camtest.Measure(pictureNow(t, g, aus), 320, box[0], box[1], box[2], box[3])
		if cond(r) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %s: the region is %s; status %+v", what, d, r, g.Status().(Status).Sources)
		}
	}
}

func source(t *testing.T, g *Graph, name string) SourceStatus {
	t.Helper()
	for _, s := range g.Status().(Status).Sources {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no source %s in status", name)
	return SourceStatus{}
}

func waitSource(t *testing.T, g *Graph, name string, d time.Duration, what string, cond func(SourceStatus) bool) SourceStatus {
	t.Helper()
	var st SourceStatus
	waitStatus(t, g, d, what, func(Status) bool {
		st = source(t, g, name)
		return cond(st)
	})
	return st
}

// An MJPEG camera that goes away shows its card in its slot while the
// stream goes on, then comes back into the composite by itself; the
// mixer is never rebuilt.
func TestMJPEGCameraComesAndGoes(t *testing.T) {
	srv, err := camtest.NewMJPEG(320, 240, 15, green)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var logs syncBuffer
	g := startGraphLogging(t, ipConfig(srv.StreamURL()), &logs)
	aus, cancel := g.Subscribe(256)
	defer cancel()
	// The mixer's latency is configured (no "Impossible to configure
	// latency" warning on each query) and nothing else warns.
	defer func() {
		if l := logs.String(); strings.Contains(l, "graph warning") {
			t.Errorf("the mixer warned:\n%s", l)
		}
	}()
	waitPicture(t, g, aus, 10*time.Second, "green inset", insetArea, func(r camtest.Region) bool { return r.Near(greenF, 40) })
	if st := source(t, g, "b"); st.State != string(CameraPlaying) || st.FPS < 5 || st.LastFrame == nil {
		t.Fatalf("status while playing: %+v", st)
	}

	srv.Stop()
	waitPicture(t, g, aus, 10*time.Second, "card in the inset", insetArea, camtest.Region.IsCard)
	st := waitSource(t, g, "b", 5*time.Second, "b reconnecting", func(s SourceStatus) bool { return s.State == string(CameraReconnecting) })
	if st.Error == "" || !st.Placeholder {
		t.Fatalf("lost camera's status: %+v", st)
	}
	if c := camtest.Measure(pictureNow(t, g, aus), 320, mainArea[0], mainArea[1], mainArea[2], mainArea[3]); !c.Near(redF, 60) {
		t.Fatalf("the other camera suffers: main is %s", c)
	}

	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	waitPicture(t, g, aus, 10*time.Second, "green inset again", insetArea, func(r camtest.Region) bool { return r.Near(greenF, 40) })
	st = waitSource(t, g, "b", 5*time.Second, "b playing", func(s SourceStatus) bool { return s.State == string(CameraPlaying) })
	if st.Reconnects < 1 || st.Placeholder {
		t.Fatalf("back camera's status: %+v", st)
	}
	if n := g.Status().(Status).Rebuilds; n != 0 {
		t.Fatalf("the mixer was rebuilt %d times", n)
	}
}

// A camera that cannot start does not stop the graph: it starts with the
// card in that slot, status says why, and the camera joins when its server
// appears.
func TestCameraThatCannotStartJoinsLater(t *testing.T) {
	addr, err := camtest.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := camtest.NewMJPEGOn(addr, 320, 240, 15, green)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	g := startGraph(t, ipConfig("http://"+addr+"/stream"))
	aus, cancel := g.Subscribe(256)
	defer cancel()
	st := waitSource(t, g, "b", 10*time.Second, "b failed with a reason", func(s SourceStatus) bool {
		return s.State == string(CameraFailed) && s.Error != ""
	})
	if !strings.Contains(st.Error, "cam1") || !strings.Contains(strings.ToLower(st.Error), "connect") {
		t.Fatalf("status error %q does not say the element and the connection failed", st.Error)
	}
	waitPicture(t, g, aus, 10*time.Second, "card in the inset", insetArea, camtest.Region.IsCard)

	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	waitPicture(t, g, aus, 15*time.Second, "the camera joining", insetArea, func(r camtest.Region) bool { return r.Near(greenF, 40) })
}

// An error in a camera's pipeline rebuilds that camera only; its status
// keeps the error with GStreamer's debug text.
func TestCameraErrorRebuildsOnlyThatCamera(t *testing.T) {
	g := startGraph(t, testConfig())
	aus, cancel := g.Subscribe(64)
	defer cancel()
	nextAUs(t, aus, 5)
	if err := g.InjectError(g.plan.Cameras[0].SourceName, "sensor went away"); err != nil {
		t.Fatal(err)
	}
	st := waitSource(t, g, "a", 10*time.Second, "a back after a reconnect", func(s SourceStatus) bool {
		return s.Reconnects >= 1 && s.State == string(CameraPlaying)
	})
	if !strings.Contains(st.Error, "sensor went away") || !strings.Contains(st.Error, "injected by pipcam") || st.ErrorTime == nil {
		t.Fatalf("source error %q lacks the message or the debug text", st.Error)
	}
	full := g.Status().(Status)
	if full.Rebuilds != 0 || full.Errors[len(full.Errors)-1].Camera != "a" {
		t.Fatalf("a camera error must not rebuild the mixer: %+v", full)
	}
	nextAUs(t, aus, 10) // the stream goes on
}

// A rebuild of the mixer's pipeline leaves the cameras' pipelines running.
func TestMixerRebuildLeavesCamerasRunning(t *testing.T) {
	g := startGraph(t, testConfig())
	aus, cancel := g.Subscribe(256)
	defer cancel()
	got := nextAUs(t, aus, 10)
	before := []*cameraRun{g.cams[0].run(), g.cams[1].run()}
	if err := g.InjectError(nameEncoder, "encoder fell over"); err != nil {
		t.Fatal(err)
	}
	afterRebuild(t, g, aus, got[len(got)-1].PTS)
	for i, c := range g.cams {
		if c.run() != before[i] || c.reconnectCount() != 0 {
			t.Errorf("camera %s was restarted by the mixer's rebuild", c.plan.Camera.Name)
		}
	}
	waitPicture(t, g, aus, 10*time.Second, "the red main camera", mainArea, func(r camtest.Region) bool { return r.Near(redF, 60) })
}

func TestRetryDelayGrowsWithTheOutage(t *testing.T) {
	for _, tt := range []struct{ lost, want time.Duration }{
		{0, 500 * time.Millisecond},
		{2 * time.Second, 500 * time.Millisecond},
		{5 * time.Second, time.Second},
		{20 * time.Second, 4 * time.Second},
		{time.Hour, 10 * time.Second},
	} {
		if got := retryDelay(tt.lost); got != tt.want {
			t.Errorf("lost for %s: retry after %s, want %s", tt.lost, got, tt.want)
		}
	}
}

func TestCardText(t *testing.T) {
	got := cardText("b", &CameraError{Element: "cam1", Message: "Could not connect to server.", Debug: "gstsouphttpsrc.c(1234): Connection refused"})
	if got != "camera b: reconnecting…\nCould not connect to server" {
		t.Fatalf("card %q", got)
	}
	long := cardText("b", ErrCameraStalled)
	if !strings.HasPrefix(long, "camera b: reconnecting…\n") || strings.Count(long, "\n") != 1 {
		t.Fatalf("card %q", long)
	}
}

// IP camera credentials: the right ones give the picture, wrong ones a
// status that says so; the password is in no log line and no status.
func TestIPCameraCredentials(t *testing.T) {
	const pw = "pw-5be1c9d0"
	srv, err := camtest.NewMJPEG(320, 240, 15, green)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.RequireAuth("viewer", pw)
	for _, tt := range []struct {
		name string
		cam  configs.Camera
	}{
		{"mjpeg", configs.Camera{Type: configs.CameraMJPEG, URL: srv.StreamURL()}},
		{"snapshot", configs.Camera{Type: configs.CameraSnapshot, URL: srv.SnapshotURL(), Framerate: 5}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncBuffer
			for _, pass := range []string{pw, "wrong-" + pw} {
				cfg := testConfig()
				cam := tt.cam
				cam.Name, cam.Width, cam.Height, cam.Username, cam.Password = "b", 320, 240, "viewer", configs.Secret(pass)
				cfg.Cameras[1] = cam
				cfg.Layout.Size = 0.5
				g := startGraphLogging(t, cfg, &logs)
				aus, cancel := g.Subscribe(256)
				if pass == pw {
					waitPicture(t, g, aus, 10*time.Second, "green inset", insetArea, func(r camtest.Region) bool { return r.Near(greenF, 40) })
				} else {
					st := waitSource(t, g, "b", 10*time.Second, "b failed", func(s SourceStatus) bool { return s.State == string(CameraFailed) })
					if !strings.Contains(st.Error, "401") || !strings.Contains(st.Error, "check username and password") {
						t.Errorf("status error %q does not say the credentials were refused", st.Error)
					}
				}
				js, _ := json.Marshal(g.Status())
				if strings.Contains(string(js), pw) {
					t.Errorf("the password is in the status: %s", js)
				}
				cancel()
				g.Close()
			}
			if strings.Contains(logs.String(), pw) {
				t.Errorf("the password is in the log:\n%s", logs.String())
			}
		})
	}
}

// Rotation, flip and crop, on a real picture: halves of two colours.
func TestRotateFlipCrop(t *testing.T) {
	blueF := [3]float64{0, 0, 255}
	split := func(vertical bool) image.Image {
		img := image.NewRGBA(image.Rect(0, 0, 320, 240))
		for y := 0; y < 240; y++ {
			for x := 0; x < 320; x++ {
				c := color.RGBA{255, 0, 0, 255} // red left (or top)
				if !vertical && x >= 160 || vertical && y >= 120 {
					c = color.RGBA{0, 0, 255, 255} // blue right (or bottom)
				}
				img.Set(x, y, c)
			}
		}
		return img
	}
	type probe struct {
		box  [4]int
		want [3]float64 // {-1,...}: black (letterbox)
	}
	black := [3]float64{0, 0, 0}
	for _, tt := range []struct {
		name     string
		picture  image.Image
		cam      configs.Camera
		expected []probe
	}{
		{"flip horizontal", split(false), configs.Camera{Flip: configs.FlipHorizontal},
			[]probe{{[4]int{20, 60, 140, 200}, blueF}, {[4]int{180, 60, 300, 200}, redF}}},
		// Cutting the right half leaves a 160x240 red picture, letterboxed.
		{"crop right half", split(false), configs.Camera{Crop: configs.Crop{Right: 160}},
			[]probe{{[4]int{100, 60, 220, 200}, redF}, {[4]int{4, 60, 60, 200}, black}}},
		// Red top turned clockwise is on the right; 240x320 is letterboxed
		// to 180x240 at x=70.
		{"rotate 90", split(true), configs.Camera{Rotate: 90},
			[]probe{{[4]int{80, 40, 150, 200}, blueF}, {[4]int{170, 40, 240, 200}, redF}, {[4]int{4, 40, 60, 200}, black}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := camtest.NewMJPEG(320, 240, 15, green)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			if err := srv.SetPicture(tt.picture); err != nil {
				t.Fatal(err)
			}
			cam := tt.cam
			cam.Name, cam.Type, cam.URL, cam.Width, cam.Height = "a", configs.CameraMJPEG, srv.StreamURL(), 320, 240
			cfg := testConfig()
			cfg.Cameras = []configs.Camera{cam}
			cfg.Layout = configs.Layout{Mode: configs.LayoutSingle, Main: "a", Corner: configs.CornerBottomRight, Size: 0.3}
			g := startGraph(t, cfg)
			aus, cancel := g.Subscribe(256)
			defer cancel()
			for _, p := range tt.expected {
				waitPicture(t, g, aus, 10*time.Second, fmt.Sprintf("colour %v at %v", p.want, p.box), p.box, func(r camtest.Region) bool { return r.Near(p.want, 50) })
			}
		})
	}
}

// A V4L2 device that vanishes is looked for again by its path at every
// attempt: gone, then back (here a file standing in for the by-id link,
// which v4l2src then opens and rejects: no capture device attaches here).
func TestV4L2DeviceIsLookedForAgainByItsPath(t *testing.T) {
	dev := filepath.Join(t.TempDir(), "usb-046d_HD_Pro_Webcam_C920_42B15FEF-video-index0")
	cfg := testConfig()
	cfg.Cameras[1] = configs.Camera{Name: "b", Type: configs.CameraV4L2, Device: dev, Format: configs.FormatAuto}
	// Not cfg.Validate: the stand-in is not under /dev.
	g, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	st := waitSource(t, g, "b", 10*time.Second, "b not present", func(s SourceStatus) bool {
		return s.State == string(CameraFailed) && strings.Contains(s.Error, "is not present (unplugged?)")
	})
	if !strings.Contains(st.Error, dev) {
		t.Fatalf("error %q does not name the device path", st.Error)
	}
	if err := os.WriteFile(dev, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	st = waitSource(t, g, "b", 10*time.Second, "b tried at the path again", func(s SourceStatus) bool {
		return s.Error != "" && !strings.Contains(s.Error, "not present")
	})
	t.Logf("with the path back: %s (after %d reconnects)", st.Error, st.Reconnects)
}

// An RTSP camera over UDP (the tests under a viewer use TCP): its H.264 is
// received, decoded and mixed.
func TestRTSPCameraOverUDP(t *testing.T) {
	srv, err := camtest.StartRTSP(t.TempDir(), "blue", 320, 240, 15)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cfg := testConfig()
	cfg.Cameras[0] = configs.Camera{Name: "a", Type: configs.CameraRTSP, URL: srv.URL(), Transport: configs.TransportUDP, Width: 320, Height: 240}
	g := startGraph(t, cfg)
	aus, cancel := g.Subscribe(256)
	defer cancel()
	waitPicture(t, g, aus, 15*time.Second, "the blue RTSP camera", mainArea, func(r camtest.Region) bool { return r.Near([3]float64{0, 0, 255}, 50) })
	if st := source(t, g, "a"); st.State != string(CameraPlaying) || st.URL != srv.URL() {
		t.Fatalf("status %+v", st)
	}
}
