package configs

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// Every value type refuses unknown values on its own, from YAML and JSON.
func TestValueTypesDecode(t *testing.T) {
	tests := []struct {
		name    string
		newV    func() any
		good    []string
		bad     []string
		wantErr string
	}{
		{"CameraType", func() any { return new(CameraType) }, []string{"test", "v4l2", "libcamera", "mjpeg", "snapshot", "rtsp"}, []string{"usb", "V4L2", "http"}, `unknown camera type "`},
		{"TestPattern", func() any { return new(TestPattern) }, []string{"smpte", "ball", "checkers-8", "colors"}, []string{"plaid", "SMPTE"}, `(valid: smpte, snow, black`},
		{"CaptureFormat", func() any { return new(CaptureFormat) }, []string{"auto", "raw", "mjpeg"}, []string{"h264"}, `unknown capture format "h264" (valid: auto, raw, mjpeg)`},
		{"Flip", func() any { return new(Flip) }, []string{"none", "horizontal", "vertical"}, []string{"both", "Horizontal"}, `(valid: none, horizontal, vertical)`},
		{"RTSPTransport", func() any { return new(RTSPTransport) }, []string{"tcp", "udp"}, []string{"http", "TCP"}, `unknown RTSP transport`},
		{"LayoutMode", func() any { return new(LayoutMode) }, []string{"pip", "single", "side-by-side"}, []string{"grid", ""}, `(valid: pip, single, side-by-side)`},
		{"Corner", func() any { return new(Corner) }, []string{"top-left", "top-right", "bottom-left", "bottom-right"}, []string{"center", ""}, `(valid: top-left, top-right, bottom-left, bottom-right)`},
		{"EncoderElement", func() any { return new(EncoderElement) }, []string{"auto", "x264enc", "v4l2h264enc", "omxh264enc"}, []string{"nvh264enc"}, `unknown encoder element "nvh264enc"`},
		{"LogLevel", func() any { return new(LogLevel) }, []string{"debug", "info", "warn", "error"}, []string{"warning", ""}, `(valid: debug, info, warn, error)`},
		{"Duration", func() any { return new(Duration) }, []string{"0s", "2s", "250ms", "1m30s"}, []string{"2", "-1s", "soon"}, `duration "`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, s := range tt.good {
				if err := yaml.Unmarshal([]byte("'"+s+"'"), tt.newV()); err != nil {
					t.Errorf("YAML %q: %v", s, err)
				}
				js, _ := json.Marshal(s)
				if err := json.Unmarshal(js, tt.newV()); err != nil {
					t.Errorf("JSON %q: %v", s, err)
				}
			}
			for _, s := range tt.bad {
				err := yaml.Unmarshal([]byte("'"+s+"'"), tt.newV())
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("YAML %q: got %v, want %q", s, err, tt.wantErr)
				}
				js, _ := json.Marshal(s)
				err = json.Unmarshal(js, tt.newV())
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("JSON %q: got %v, want %q", s, err, tt.wantErr)
				}
			}
			if err := json.Unmarshal([]byte("7"), tt.newV()); err == nil {
				t.Error("JSON number accepted")
			}
		})
	}
}

// Camera fields accept "" in YAML: it means "not set", filled per camera.
func TestCameraFieldsAcceptEmpty(t *testing.T) {
	var c Camera
	if err := yaml.Unmarshal([]byte(`{type: "", pattern: "", format: ""}`), &c); err != nil {
		t.Fatal(err)
	}
}

func TestJSONNullKeepsValue(t *testing.T) {
	m := LayoutPiP
	if err := json.Unmarshal([]byte("null"), &m); err != nil || m != LayoutPiP {
		t.Errorf("got %q, %v", m, err)
	}
}

func TestDuration(t *testing.T) {
	var d Duration
	if err := yaml.Unmarshal([]byte("1500ms"), &d); err != nil || d.D() != 1500*time.Millisecond {
		t.Fatalf("got %v, %v", d, err)
	}
	if d.String() != "1.5s" {
		t.Errorf("String: %q", d.String())
	}
	out, err := yaml.Marshal(d)
	if err != nil || string(out) != "1.5s\n" {
		t.Errorf("MarshalYAML: %q, %v", out, err)
	}
	js, err := json.Marshal(d)
	if err != nil || string(js) != `"1.5s"` {
		t.Errorf("MarshalJSON: %s, %v", js, err)
	}
	var back Duration
	if err := json.Unmarshal(js, &back); err != nil || back != d {
		t.Errorf("JSON round trip: %v, %v", back, err)
	}
}

func TestLogLevel(t *testing.T) {
	for l, want := range map[LogLevel]slog.Level{
		LogDebug: slog.LevelDebug, LogInfo: slog.LevelInfo, LogWarn: slog.LevelWarn, LogError: slog.LevelError,
	} {
		if got := l.Level(); got != want {
			t.Errorf("%s: got %v", l, got)
		}
	}
}

func TestLayoutJSON(t *testing.T) {
	var l Layout
	err := json.Unmarshal([]byte(`{"mode":"pip","main":"a","inset":"b","corner":"top-left","size":0.25,"margin":8}`), &l)
	want := Layout{Mode: LayoutPiP, Main: "a", Inset: "b", Corner: CornerTopLeft, Size: 0.25, Margin: 8}
	if err != nil || l != want {
		t.Fatalf("got %+v, %v", l, err)
	}
	for body, wantErr := range map[string]string{
		`{"mode":"mosaic"}`:  `unknown layout mode "mosaic" (valid: pip, single, side-by-side)`,
		`{"corner":"left"}`:  `unknown corner "left" (valid: top-left, top-right, bottom-left, bottom-right)`,
		`{"mode":""}`:        `unknown layout mode ""`,
		`{"corner":["a"]}`:   `corner must be a JSON string`,
		`{"mode":"PIP"}`:     `unknown layout mode "PIP"`,
		`{"corner":"top_l"}`: `unknown corner "top_l"`,
	} {
		var l Layout
		err := json.Unmarshal([]byte(body), &l)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: got %v, want %q", body, err, wantErr)
		}
	}
	out, _ := json.Marshal(Default().Layout)
	if want := `{"mode":"pip","main":"a","inset":"b","corner":"bottom-right","size":0.3,"margin":16}`; string(out) != want {
		t.Errorf("marshal: %s", out)
	}
}
