package configs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseEmptyMeansDefaults(t *testing.T) {
	for _, doc := range []string{"", "\n", "# nothing\n", "---\n", "~\n"} {
		cfg, err := Parse([]byte(doc), "pipcam.yaml")
		if err != nil {
			t.Fatalf("%q: %v", doc, err)
		}
		if !reflect.DeepEqual(cfg, Default()) {
			t.Errorf("%q: got %+v", doc, cfg)
		}
	}
}

func TestParseKeepsDefaults(t *testing.T) {
	cfg, err := Parse([]byte(lines("output:", "  width: 1280", "  height: 720", "encoder:", "  keyframe_interval: 1500ms")), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Output.Width, want.Output.Height = 1280, 720
	want.Encoder.KeyframeInterval = Duration(1500 * time.Millisecond)
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got %+v\nwant %+v", cfg, want)
	}
}

func TestParseNullSectionKeepsDefaults(t *testing.T) {
	// A section whose every line is commented out is null in YAML.
	cfg, err := Parse([]byte(lines("overlay:", "  # text: hi", "cameras:", "layout:")), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, Default()) {
		t.Errorf("got %+v", cfg)
	}
	// A null scalar is the zero value, as in yaml.v3: "text:" means no text.
	cfg, err = Parse([]byte(lines("overlay:", "  text:")), "x.yaml")
	if err != nil || cfg.Overlay.Text != "" {
		t.Errorf("text: got %q, %v", cfg.Overlay.Text, err)
	}
}

func TestParseCamerasReplaceAndFillDefaults(t *testing.T) {
	doc := lines(
		"cameras:",
		"  - name: printer",
		"    type: v4l2",
		"    device: /dev/null",
		"    width: 1280",
		"    height: 720",
		"  - name: bed",
	)
	cfg, err := Parse([]byte(doc), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []Camera{
		{Name: "printer", Type: CameraV4L2, Device: "/dev/null", Format: FormatAuto, Width: 1280, Height: 720, Flip: FlipNone, StallTimeout: Duration(DefaultStallTimeout)},
		{Name: "bed", Type: CameraTest, Pattern: PatternSMPTE, Flip: FlipNone, StallTimeout: Duration(DefaultStallTimeout)},
	}
	if !reflect.DeepEqual(cfg.Cameras, want) {
		t.Errorf("cameras: got %+v", cfg.Cameras)
	}
	// The layout follows the cameras given, since the file does not set it.
	if cfg.Layout.Main != "printer" || cfg.Layout.Inset != "bed" {
		t.Errorf("layout: got main %q inset %q", cfg.Layout.Main, cfg.Layout.Inset)
	}
}

func TestParseLayoutFollowsCameras(t *testing.T) {
	two := lines("cameras:", "  - name: x", "  - name: y")
	tests := []struct {
		doc         string
		main, inset string
	}{
		{lines("cameras:", "  - name: front"), "front", ""},
		{two, "x", "y"},
		{two + lines("layout:", "  main: y"), "y", "x"},
		{two + lines("layout:", "  inset: x"), "y", "x"},
		{two + lines("layout:", "  main: y", "  inset: x"), "y", "x"},
		{lines("layout:", "  mode: single"), "a", "b"},
	}
	for _, tt := range tests {
		cfg, err := Parse([]byte(tt.doc), "x.yaml")
		if err != nil {
			t.Fatalf("%q: %v", tt.doc, err)
		}
		if cfg.Layout.Main != tt.main || cfg.Layout.Inset != tt.inset {
			t.Errorf("%q: got %q/%q, want %q/%q", tt.doc, cfg.Layout.Main, cfg.Layout.Inset, tt.main, tt.inset)
		}
	}
}

func TestParseUnknownField(t *testing.T) {
	doc := lines(
		"cameras:",
		"  - name: a",
		"  - name: b",
		"    pattern: ball",
		"    colour: red",
		"outptu:",
		"  width: 4",
	)
	got := parseErr(t, doc)
	want := "pipcam.yaml:5: cameras[1].colour: unknown field (known: name, type, pattern, device, format, width, height, framerate, url, username, password, transport, rotate, flip, crop, stall_timeout)\n" +
		"pipcam.yaml:6: outptu: unknown field (known: cameras, output, layout, encoder, overlay, printer, http, flv, webrtc, log, jpeg, push, recording)"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestParseTypeErrors(t *testing.T) {
	tests := []struct{ doc, want string }{
		{lines("output:", "  width: wide"), `pipcam.yaml:2: output.width: want a whole number, got "wide"`},
		{lines("output:", "  width: 1.5"), `pipcam.yaml:2: output.width: want a whole number, got "1.5"`},
		{lines("layout:", "  size: big"), `pipcam.yaml:2: layout.size: want a number, got "big"`},
		{lines("layout:", "  mode: [pip]"), `pipcam.yaml:2: layout.mode: want a single value, got a list`},
		{lines("output: 640x480"), `pipcam.yaml:1: output: want a mapping of settings (width, height, framerate), got "640x480"`},
		{lines("cameras:", "  name: a"), `pipcam.yaml:2: cameras: want a list, got a mapping`},
		{lines("webrtc:", "  ice_servers:", "    - urls: stun:x.org"), `pipcam.yaml:3: webrtc.ice_servers[0].urls: want a list, got "stun:x.org"`},
		{lines("- a"), `pipcam.yaml:1: want a mapping of settings (cameras, output,`},
		{lines("{[a]: 1}"), `pipcam.yaml:1: a setting name must be plain text, got a list`},
	}
	for _, tt := range tests {
		if got := parseErr(t, tt.doc); !strings.Contains(got, tt.want) {
			t.Errorf("%q:\n got  %s\n want %s", tt.doc, got, tt.want)
		}
	}
}

func TestParseSyntaxErrors(t *testing.T) {
	tests := []struct{ doc, want string }{
		{lines("output:", "  width: 640", " height: 480"), "pipcam.yaml:2: invalid YAML: did not find expected key"},
		{lines("output: [", ""), "pipcam.yaml:"},
		{lines("a: 1", "---", "b: 2"), "pipcam.yaml:2: a second YAML document"},
		{lines("log:", "  level: info", "log:", "  level: debug"), "pipcam.yaml:3: log: given twice (first on line 1)"},
		{lines("log:", "\tlevel: x"), "pipcam.yaml:2: invalid YAML: found character that cannot start any token"},
		// yaml.v3 gives no line for some errors on line 1.
		{"\tlog: x\n", "pipcam.yaml: invalid YAML: found character that cannot start any token"},
	}
	for _, tt := range tests {
		got := parseErr(t, tt.doc)
		if !strings.Contains(got, tt.want) {
			t.Errorf("%q:\n got  %s\n want %s", tt.doc, got, tt.want)
		}
		if strings.Contains(strings.ReplaceAll(got, "pipcam.yaml", ""), "yaml: ") {
			t.Errorf("%q: yaml.v3's prefix not rewritten: %s", tt.doc, got)
		}
	}
}

func TestParseReportsEverything(t *testing.T) {
	doc := lines(
		"cameras:",
		"  - name: a",
		"  - name: cam",
		"    type: v4l2",
		"    device: video9",
		"    colour: red",
		"output:",
		"  width: 641",
		"  framerate: fast",
		"encoder:",
		"  bitrate_kbps: 10",
		"flv:",
		"  listen: \":8080\"",
	)
	_, err := Parse([]byte(doc), "pipcam.yaml")
	want := []string{
		`pipcam.yaml:5: cameras[1].device: "video9" must be a path under /dev/ of letters, digits and . _ : / + - (no ..)`,
		"pipcam.yaml:6: cameras[1].colour: unknown field (known: name, type, pattern, device, format, width, height, framerate, url, username, password, transport, rotate, flip, crop, stall_timeout)",
		"pipcam.yaml:8: output.width: must be even, got 641",
		`pipcam.yaml:9: output.framerate: want a whole number, got "fast"`,
		"pipcam.yaml:11: encoder.bitrate_kbps: must be 50-20000, got 10",
		"pipcam.yaml:13: flv.listen: port 8080 is already http.listen's",
		// layout.inset follows the cameras: "cam", which is valid.
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("got:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
	// Each line is a *FieldError that errors.As finds.
	var fe *FieldError
	if !errors.As(err, &fe) || fe.File != "pipcam.yaml" || fe.Line != 5 || fe.Field != "cameras[1].device" {
		t.Errorf("errors.As: got %+v", fe)
	}
}

func TestParseDoesNotPileOnAfterADecodeError(t *testing.T) {
	// "type: v4l3" is refused, so the camera stays type test; its device
	// would then be "only used by v4l2 cameras", which would only confuse.
	got := parseErr(t, lines("cameras:", "  - name: cam", "    type: v4l3", "    device: /dev/video0"))
	want := `pipcam.yaml:3: cameras[0].type: unknown camera type "v4l3" (valid: test, v4l2, libcamera, mjpeg, snapshot, rtsp)`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestParseAbsentFieldUsesParentLine(t *testing.T) {
	got := parseErr(t, lines("log:", "  level: info", "cameras:", "  - type: v4l2"))
	for _, want := range []string{"pipcam.yaml:4: cameras[0].name: required", "pipcam.yaml:4: cameras[0].device: required"} {
		if !strings.Contains(got, want) {
			t.Errorf("want %q in:\n%s", want, got)
		}
	}
	// Nothing of the path in the file: no line at all.
	got = parseErr(t, lines("http:", "  listen: \":7272\""))
	if want := "pipcam.yaml: flv.listen: port 7272 is already http.listen's"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestParseFileName(t *testing.T) {
	got := parseErr(t, "")
	if got != "" {
		t.Fatal(got)
	}
	_, err := Parse([]byte("log: {level: x}\n"), "")
	if err == nil || !strings.HasPrefix(err.Error(), "<config>:1: log.level: ") {
		t.Errorf("got %v", err)
	}
}

func TestParseAliasesAndMerge(t *testing.T) {
	doc := lines(
		"cameras:",
		"  - &cam {name: a, type: test, pattern: snow, width: 320, height: 240}",
		"  - <<: *cam",
		"    name: b",
		"layout:",
		"  <<: [{size: 0.2}, {size: 0.4, margin: 3}]",
		"  corner: top-left",
	)
	cfg, err := Parse([]byte(doc), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if b := cfg.Cameras[1]; b.Name != "b" || b.Pattern != "snow" || b.Width != 320 {
		t.Errorf("merged camera: %+v", b)
	}
	if l := cfg.Layout; l.Size != 0.2 || l.Margin != 3 || l.Corner != CornerTopLeft {
		t.Errorf("merged layout: %+v", l)
	}
	if got := parseErr(t, lines("layout:", "  <<: 5")); !strings.Contains(got, "pipcam.yaml:2: layout: << (merge) needs a mapping") {
		t.Errorf("bad merge: %s", got)
	}
}

func TestParseRecursiveAliasTerminates(t *testing.T) {
	for _, doc := range []string{
		lines("layout: &a", "  <<: *a"),
		lines("layout: &a", "  <<: [*a, *a, *a]"),
	} {
		got := parseErr(t, doc)
		if strings.Count(got, "too deeply nested") != 1 {
			t.Errorf("%q: got %q", doc, got)
		}
	}
}

func TestParseAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("x: &u [" + strings.Repeat("\"stun:a\",", 1000) + "\"stun:a\"]\n")
	b.WriteString("webrtc:\n  ice_servers: [" + strings.Repeat("{urls: *u},", 1000) + "{urls: *u}]\n")
	start := time.Now()
	got := parseErr(t, b.String())
	if !strings.Contains(got, "too many aliases") || time.Since(start) > 5*time.Second {
		t.Errorf("took %v: %.300s", time.Since(start), got)
	}
}

func TestParseManyProblemsCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("output:\n")
	for i := range 200 {
		fmt.Fprintf(&b, "  k%d: 1\n", i)
	}
	got := parseErr(t, b.String())
	if n := strings.Count(got, "\n") + 1; n != maxReported+1 || !strings.HasSuffix(got, "pipcam.yaml: 150 more problems not shown") {
		t.Errorf("%d lines, ends %q", n, got[len(got)-60:])
	}
}

func TestParseTooLarge(t *testing.T) {
	data := []byte("# " + strings.Repeat("x", maxFileSize) + "\n")
	_, err := Parse(data, "big.yaml")
	if err == nil || !strings.HasPrefix(err.Error(), "big.yaml: file is") {
		t.Errorf("got %v", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pipcam.yaml")
	if err := os.WriteFile(path, []byte("log:\n  level: debug\n  colour: red\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if want := path + ":3: log.colour: unknown field (known: level)"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	if err := os.WriteFile(path, []byte("log:\n  level: debug\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil || cfg.Log.Level != LogDebug {
		t.Errorf("got %+v, %v", cfg, err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := Load(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("got %v", err)
	}
}
