package configs

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// The example file is the documentation of the defaults: keep them equal.
func TestExampleEqualsDefault(t *testing.T) {
	cfg, err := Parse(Example, "pipcam.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if want := Default(); !reflect.DeepEqual(cfg, want) {
		t.Errorf("Example differs from Default():\n got  %+v\n want %+v", cfg, want)
	}
}

// Every setting appears in the example, uncommented where the default
// config has it.
func TestExampleNamesEveryField(t *testing.T) {
	set := map[string]bool{}
	for _, line := range strings.Split(string(Example), "\n") {
		line = strings.TrimLeft(strings.TrimSpace(line), "- ")
		if key, _, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "#") {
			set[key] = true
		}
	}
	_, names := yamlFields(reflect.TypeFor[Config]())
	for _, section := range []any{Camera{}, Crop{}, Output{}, Layout{}, Encoder{}, Adaptive{}, Overlay{}, ProgressBar{}, Printer{}, HTTP{}, FLV{}, WebRTC{}, ICEServer{}, Log{}, JPEG{}, Push{}, PushDestination{}, Recording{}} {
		_, n := yamlFields(reflect.TypeOf(section))
		names = append(names, n...)
	}
	for _, name := range names {
		// These only apply to settings the example shows commented out.
		commentedOnly := map[string]bool{"device": true, "format": true, "urls": true, "username": true, "credential": true,
			"url": true, "password": true, "transport": true, "key": true, "start": true, "audio": true}
		switch {
		case commentedOnly[name] && !strings.Contains(string(Example), name+":"):
			t.Errorf("Example does not show %s", name)
		case !commentedOnly[name] && !set[name]:
			t.Errorf("Example does not set %s", name)
		}
	}
}

// The commented-out examples in it are valid once uncommented.
func TestExampleCommentedOutParts(t *testing.T) {
	doc := lines(
		"cameras:",
		"  - name: printer",
		"    type: v4l2",
		"    device: /dev/null", // stands in for /dev/v4l/by-id/...
		"    format: auto",
		"    width: 1280",
		"    height: 720",
		"    framerate: 30",
		"webrtc:",
		"  ice_servers:",
		"    - urls: [\"stun:stun.l.google.com:19302\"]",
		"    - urls: [\"turn:turn.example.org:3478\"]",
		"      username: pipcam",
		"      credential: change-me",
		"printer:",
		"  type: octoprint",
		"push:",
		"  destinations:",
		"    - name: youtube",
		"      url: rtmp://a.rtmp.youtube.com/live2",
		"      key: xxxx-xxxx-xxxx-xxxx-xxxx",
		"      start: always",
		"      audio: silent",
	)
	if got := parseErr(t, doc); got != "" {
		t.Error(got)
	}
	for _, want := range []string{"# - name: printer", "/dev/v4l/by-id/", "format: auto", "#   - urls: [\"turn:"} {
		if !bytes.Contains(Example, []byte(want)) {
			t.Errorf("Example lacks %q", want)
		}
	}
}
