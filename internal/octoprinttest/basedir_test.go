package octoprinttest

import (
	"reflect"
	"testing"
)

// Options.Settings go into config.yaml over the harness's own: maps merge,
// anything else replaces.
func TestMergeSettings(t *testing.T) {
	dst := map[string]any{
		"server":  map[string]any{"firstRun": false, "onlineCheck": map[string]any{"enabled": false}},
		"plugins": map[string]any{"_disabled": []string{"tracking"}},
	}
	merge(dst, map[string]any{
		"server":  map[string]any{"onlineCheck": map[string]any{"interval": 60}},
		"plugins": map[string]any{"_disabled": []string{"pipcam"}, "pipcam": map[string]any{"player": "mjpeg"}},
		"webcam":  map[string]any{"ffmpeg": "/usr/bin/ffmpeg"},
	})
	want := map[string]any{
		"server":  map[string]any{"firstRun": false, "onlineCheck": map[string]any{"enabled": false, "interval": 60}},
		"plugins": map[string]any{"_disabled": []string{"pipcam"}, "pipcam": map[string]any{"player": "mjpeg"}},
		"webcam":  map[string]any{"ffmpeg": "/usr/bin/ffmpeg"},
	}
	if !reflect.DeepEqual(dst, want) {
		t.Fatalf("merged:\n%v\nwant:\n%v", dst, want)
	}
}
