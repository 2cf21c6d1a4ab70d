package configs

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The camera settings of every source type, each bad case with the exact
// "file:line: field:" it must produce.
func TestParseCameraSources(t *testing.T) {
	cam := func(extra ...string) string {
		return lines(append([]string{"cameras:", "  - name: cam"}, extra...)...)
	}
	tests := []struct {
		name string
		doc  string
		want string // "" = valid
	}{
		{"mjpeg ok", cam("    type: mjpeg", "    url: http://10.0.0.5:81/stream", "    username: admin", "    password: pw"), ""},
		{"mjpeg https", cam("    type: mjpeg", "    url: https://cam.example.org/?action=stream"), ""},
		{"mjpeg no url", cam("    type: mjpeg"), "pipcam.yaml:2: cameras[0].url: required for a mjpeg camera"},
		{"mjpeg rtsp url", cam("    type: mjpeg", "    url: rtsp://10.0.0.5/s"), `pipcam.yaml:4: cameras[0].url: a mjpeg camera needs a http or https URL, got "rtsp:"`},
		{"credentials in url", cam("    type: mjpeg", "    url: http://admin:hunter2@10.0.0.5/stream"),
			"pipcam.yaml:4: cameras[0].url: must not contain credentials (user:password@); put them in username and password"},
		{"user in url", cam("    type: snapshot", "    url: http://admin@10.0.0.5/capture"), "cameras[0].url: must not contain credentials"},
		{"url space", cam("    type: mjpeg", "    url: http://10.0.0.5/a b"), "pipcam.yaml:4: cameras[0].url: must not contain spaces"},
		{"url no host", cam("    type: mjpeg", "    url: http:///stream"), "pipcam.yaml:4: cameras[0].url: has no host"},
		{"relative url", cam("    type: snapshot", "    url: /capture"), `pipcam.yaml:4: cameras[0].url: a snapshot camera needs a http or https URL, got ":"`},
		{"password without user", cam("    type: mjpeg", "    url: http://h/s", "    password: pw"), "pipcam.yaml:2: cameras[0].username: required when a password is set"},
		{"user with colon", cam("    type: mjpeg", "    url: http://h/s", "    username: a:b"), "pipcam.yaml:5: cameras[0].username: must not contain ':'"},
		{"rtsp ok", cam("    type: rtsp", "    url: rtsp://10.0.0.5:554/stream1", "    transport: udp"), ""},
		{"rtsps ok", cam("    type: rtsp", "    url: rtsps://10.0.0.5/s"), ""},
		{"rtsp http url", cam("    type: rtsp", "    url: http://10.0.0.5/s"), `pipcam.yaml:4: cameras[0].url: a rtsp camera needs a rtsp or rtsps URL, got "http:"`},
		{"rtsp bad transport", cam("    type: rtsp", "    url: rtsp://h/s", "    transport: http"), `pipcam.yaml:5: cameras[0].transport: unknown RTSP transport "http" (valid: tcp, udp)`},
		{"transport on mjpeg", cam("    type: mjpeg", "    url: http://h/s", "    transport: tcp"), "pipcam.yaml:5: cameras[0].transport: only used by rtsp cameras (this one is type mjpeg)"},
		{"url on test", cam("    url: http://h/s"), "pipcam.yaml:3: cameras[0].url: only used by mjpeg, snapshot and rtsp cameras (this one is type test)"},
		{"password on v4l2", cam("    type: v4l2", "    device: /dev/video0", "    password: pw"), "pipcam.yaml:5: cameras[0].password: only used by mjpeg, snapshot and rtsp cameras"},
		{"libcamera ok", cam("    type: libcamera"), ""},
		{"libcamera id", cam("    type: libcamera", "    device: /base/soc/i2c0mux/i2c@1/imx708@1a"), ""},
		{"libcamera id space", cam("    type: libcamera", "    device: \"a b\""), "pipcam.yaml:4: cameras[0].device: libcamera camera id \"a b\" has a space"},
		{"format on rtsp", cam("    type: rtsp", "    url: rtsp://h/s", "    format: raw"), "pipcam.yaml:5: cameras[0].format: only used by v4l2 cameras"},
		{"v4l2 auto", cam("    type: v4l2", "    device: /dev/video0", "    format: auto"), ""},

		{"rotate ok", cam("    rotate: 270"), ""},
		{"rotate 45", cam("    rotate: 45"), "pipcam.yaml:3: cameras[0].rotate: rotation 45 is not one of 0, 90, 180, 270"},
		{"rotate word", cam("    rotate: left"), `pipcam.yaml:3: cameras[0].rotate: want 0, 90, 180 or 270, got "left"`},
		{"flip ok", cam("    flip: vertical"), ""},
		{"flip bad", cam("    flip: both"), `pipcam.yaml:3: cameras[0].flip: unknown flip "both" (valid: none, horizontal, vertical)`},
		{"crop ok", cam("    width: 640", "    height: 480", "    crop:", "      left: 100", "      right: 100", "      top: 2", "      bottom: 0"), ""},
		{"crop odd", cam("    crop:", "      left: 3"), "pipcam.yaml:4: cameras[0].crop.left: must be even, got 3"},
		{"crop negative", cam("    crop:", "      bottom: -2"), "pipcam.yaml:4: cameras[0].crop.bottom: must be 0 or more pixels, got -2"},
		{"crop too much", cam("    width: 320", "    height: 240", "    crop:", "      left: 200", "      right: 110"),
			"pipcam.yaml:5: cameras[0].crop: left+right (310) leaves 10 of the 320 pixels across; at least 16 must stay"},
		{"crop unknown key", cam("    crop:", "      middle: 2"), "pipcam.yaml:4: cameras[0].crop.middle: unknown field (known: left, right, top, bottom)"},

		{"stall ok", cam("    stall_timeout: 5s"), ""},
		{"stall too short", cam("    stall_timeout: 100ms"), "pipcam.yaml:3: cameras[0].stall_timeout: must be 500ms-1m at 15 frames per second, got 100ms"},
		// A snapshot camera fetched once a second needs two seconds at least.
		{"stall slow camera", cam("    type: snapshot", "    url: http://h/c", "    framerate: 1", "    stall_timeout: 1s"),
			"pipcam.yaml:6: cameras[0].stall_timeout: must be 2s-1m at 1 frames per second, got 1s"},
		{"stall too long", cam("    stall_timeout: 2m"), "pipcam.yaml:3: cameras[0].stall_timeout:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErr(t, tt.doc)
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("want error containing\n  %s\ngot:\n  %s", tt.want, got)
			}
		})
	}
}

// A URL that fails to parse is reported without the URL: it may hold a
// password.
func TestBadURLErrorHidesTheURL(t *testing.T) {
	got := parseErr(t, lines("cameras:", "  - name: cam", "    type: mjpeg", "    url: \"http://admin:s3cr3t@[::1/x\""))
	if got == "" || strings.Contains(got, "s3cr3t") {
		t.Fatalf("error %q", got)
	}
}

// Each camera type's defaults, filled per camera.
func TestCameraDefaultsPerType(t *testing.T) {
	cfg, err := Parse([]byte(lines(
		"cameras:",
		"  - name: door",
		"    type: rtsp",
		"    url: rtsp://10.0.0.9/s",
		"  - name: bed",
		"    type: snapshot",
		"    url: http://10.0.0.8/capture",
	)), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	door, bed := cfg.Cameras[0], cfg.Cameras[1]
	if door.Transport != TransportTCP || door.Flip != FlipNone || door.StallTimeout.D() != 2*time.Second {
		t.Errorf("rtsp defaults: %+v", door)
	}
	if bed.Framerate != 2 {
		t.Errorf("snapshot framerate %d, want 2 a second", bed.Framerate)
	}
}

func TestPictureSizeCropsThenTurns(t *testing.T) {
	out := Output{Width: 640, Height: 480, Framerate: 15}
	for _, tt := range []struct {
		cam  Camera
		w, h int
	}{
		{Camera{}, 640, 480},
		{Camera{Width: 1280, Height: 720}, 1280, 720},
		{Camera{Width: 1280, Height: 720, Rotate: 90}, 720, 1280},
		{Camera{Width: 1280, Height: 720, Rotate: 180, Crop: Crop{Left: 100, Right: 180, Top: 20}}, 1000, 700},
		{Camera{Crop: Crop{Top: 40, Bottom: 40}, Rotate: 270}, 400, 640},
	} {
		if w, h := tt.cam.PictureSize(out); w != tt.w || h != tt.h {
			t.Errorf("%+v: %dx%d, want %dx%d", tt.cam, w, h, tt.w, tt.h)
		}
	}
}

// A camera password is a Secret: redacted in a clone, and never printed.
func TestCameraPasswordIsRedacted(t *testing.T) {
	const pw = "cam-pw-91d2"
	c := Default()
	c.Cameras[1] = Camera{Name: "b", Type: CameraMJPEG, URL: "http://h/s", Username: "u", Password: pw}
	r := c.Redact()
	if r.Cameras[1].Password.Reveal() != "REDACTED" || c.Cameras[1].Password.Reveal() != pw {
		t.Fatalf("redact: clone %q, original %q", r.Cameras[1].Password.Reveal(), c.Cameras[1].Password.Reveal())
	}
	js, _ := json.Marshal(c.Cameras[1])
	for _, s := range []string{fmt.Sprintf("%v %+v %#v", c.Cameras[1], c.Cameras[1], c.Cameras[1]), string(js)} {
		if strings.Contains(s, pw) {
			t.Errorf("camera printed with its password: %s", s)
		}
	}
}

// Every commented-out camera in the example is valid once uncommented.
func TestExampleCamerasAreValid(t *testing.T) {
	var blocks [][]string
	in := false
	for _, line := range strings.Split(string(Example), "\n") {
		switch {
		case strings.HasPrefix(line, "  # - name: "):
			blocks = append(blocks, []string{"  - " + strings.TrimPrefix(line, "  # - ")})
			in = true
		case in && strings.HasPrefix(line, "  #   "):
			if !strings.HasPrefix(strings.TrimSpace(line[5:]), "#") { // a comment inside the example
				blocks[len(blocks)-1] = append(blocks[len(blocks)-1], "    "+line[6:])
			}
		default:
			in = false
		}
	}
	if len(blocks) < 5 {
		t.Fatalf("found %d commented camera examples, want one per camera type", len(blocks))
	}
	types := map[string]bool{}
	for _, b := range blocks {
		doc := "cameras:\n" + strings.Join(b, "\n") + "\n"
		cfg, err := Parse([]byte(doc), "example")
		if err != nil {
			t.Errorf("%s\n%v", doc, err)
			continue
		}
		types[string(cfg.Cameras[0].Type)] = true
	}
	for _, want := range cameraTypes[1:] {
		if !types[string(want)] {
			t.Errorf("no commented example of a %s camera", want)
		}
	}
}
