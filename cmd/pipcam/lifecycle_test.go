package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pipcam/pipcam/media"
)

// SIGTERM (a cancelled context) at any moment of start-up is a clean stop:
// exit 0, not "pipcam stopped" with an error that makes systemd count a
// failure.
func TestStopDuringStartUpIsClean(t *testing.T) {
	for _, after := range []time.Duration{0, 20 * time.Millisecond, 100 * time.Millisecond, 300 * time.Millisecond} {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- runDaemon(ctx, testConfig(), "test", quietLogger()) }()
		time.AfterFunc(after, cancel)
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("stopped %s into start-up: runDaemon returned %v, want a clean stop", after, err)
			}
		case <-time.After(40 * time.Second):
			t.Fatalf("stopped %s into start-up: runDaemon did not return", after)
		}
		cancel()
	}
}

// A default config file that is there but cannot be read is an error that
// names it; only a missing one means built-in defaults.
func TestUnreadableDefaultConfigIsAnError(t *testing.T) {
	for _, path := range []string{
		"/etc/passwd/pipcam.yaml", // stat fails: not a directory
		t.TempDir(),               // exists, but reading a directory fails
	} {
		_, _, err := loadConfigFrom("", path)
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("default config %s: err %v, want an error naming it", path, err)
		}
	}
	cfg, source, err := loadConfigFrom("", t.TempDir()+"/absent.yaml")
	if err != nil || source != "built-in defaults" || cfg == nil {
		t.Fatalf("missing default config: %v %q", err, source)
	}
}

// A pipeline that dies is rebuilt under a connected viewer: its session
// stays, pictures resume with a decodable keyframe, and status shows the
// error that killed it.
func TestViewerKeepsItsSessionWhenTheGraphIsRebuilt(t *testing.T) {
	d := startTestDaemon(t, testConfig())
	base := "http://" + d.HTTPAddr()
	v := watch(t, base)
	collect(t, v, time.Second)
	state := v.PeerConnection().ConnectionState()

	if err := d.graph.InjectError("enc", "encoder hardware hung"); err != nil {
		t.Fatal(err)
	}
	// Wait for the rebuild, then for a keyframe made after it.
	deadline := time.Now().Add(30 * time.Second)
	var st struct {
		Graph struct {
			Rebuilds int `json:"rebuilds"`
			Playing  bool
			Errors   []struct{ Element, Message, Debug string } `json:"errors"`
		} `json:"graph"`
	}
	for st.Graph.Rebuilds == 0 || !st.Graph.Playing {
		if time.Now().After(deadline) {
			t.Fatalf("no rebuild reported: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
		resp, err := http.Get(base + "/api/status")
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(st.Graph.Errors) == 0 || st.Graph.Errors[0].Element != "enc" || !strings.Contains(st.Graph.Errors[0].Message, "hung") {
		t.Fatalf("status errors %+v", st.Graph.Errors)
	}
	keyframe := false
	for _, au := range collect(t, v, 2*time.Second) {
		keyframe = keyframe || au.Decodable && media.IsDecodableStart(au.Data)
	}
	if !keyframe {
		t.Fatal("no decodable keyframe reached the viewer after the rebuild")
	}
	if s := v.PeerConnection().ConnectionState(); s != state {
		t.Fatalf("viewer connection went from %s to %s", state, s)
	}
}
