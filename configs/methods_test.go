package configs

import (
	"reflect"
	"testing"
)

func TestIsLoopback(t *testing.T) {
	for listen, want := range map[string]bool{
		"127.0.0.1:8080": true, "127.1.2.3:80": true, "[::1]:8080": true, "localhost:8080": true,
		":8080": false, "0.0.0.0:8080": false, "[::]:8080": false, "192.168.1.5:8080": false,
		"pi.local:8080": false, "garbage": false,
	} {
		if got := (HTTP{Listen: listen}).IsLoopback(); got != want {
			t.Errorf("%s: got %v", listen, got)
		}
	}
}

func TestCameraNamesAndEffectiveSize(t *testing.T) {
	if got := Default().CameraNames(); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("CameraNames: %v", got)
	}
	out := Output{Width: 640, Height: 480, Framerate: 15}
	w, h, fps := Camera{}.EffectiveSize(out)
	if w != 640 || h != 480 || fps != 15 {
		t.Errorf("0s: %d %d %d", w, h, fps)
	}
	w, h, fps = Camera{Width: 1280, Height: 720, Framerate: 30}.EffectiveSize(out)
	if w != 1280 || h != 720 || fps != 30 {
		t.Errorf("set: %d %d %d", w, h, fps)
	}
}

func TestClone(t *testing.T) {
	c := secretConfig()
	d := c.Clone()
	if !reflect.DeepEqual(c, d) {
		t.Fatal("clone differs")
	}
	d.WebRTC.ICEServers[1].URLs[0] = "turn:x"
	d.Cameras[1].Pattern = "snow"
	if c.WebRTC.ICEServers[1].URLs[0] != "turn:t.example.org" || c.Cameras[1].Pattern != PatternBall {
		t.Error("clone shares memory")
	}
}
