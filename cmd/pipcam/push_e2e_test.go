package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pipcam/pipcam/configs"
	"github.com/pipcam/pipcam/internal/probe"
	"github.com/pipcam/pipcam/internal/proc"
	"github.com/pipcam/pipcam/internal/rtmptest"
	"github.com/pipcam/pipcam/internal/viewer"
)

const e2eStreamKey = "e2e-9c41-stream-key"

// pushNow is the first push destination in /api/status.
type pushNow struct {
	Name       string `json:"name"`
	Enabled    bool   `json:"enabled"`
	State      string `json:"state"`
	BytesSent  uint64 `json:"bytes_sent"`
	Reconnects int    `json:"reconnects"`
	Error      string `json:"error"`
}

func statusJSON(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/api/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

func waitPushState(t *testing.T, base string, d time.Duration, what string, cond func(pushNow) bool) pushNow {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		var st struct {
			Push []pushNow `json:"push"`
		}
		if err := json.Unmarshal([]byte(statusJSON(t, base)), &st); err != nil || len(st.Push) != 1 {
			t.Fatalf("status has no push: %v", err)
		}
		if cond(st.Push[0]) {
			return st.Push[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("push never %s within %s: %+v", what, d, st.Push[0])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func pushLive(p pushNow) bool { return p.State == "live" }

// nginx serves the composite's H.264 at its size.
func checkNginxStream(t *testing.T, srv *rtmptest.Server, cfg *configs.Config) {
	t.Helper()
	streams, err := probe.Streams(context.Background(), srv.URL+"/"+e2eStreamKey)
	if err != nil {
		t.Fatalf("%v\nnginx: %s", err, srv.Log())
	}
	if v, ok := probe.Video(streams); !ok || v.Codec != "h264" || v.Width != cfg.Output.Width || v.Height != cfg.Output.Height {
		t.Fatalf("ffprobe read %+v from nginx, want H.264 %dx%d", streams, cfg.Output.Width, cfg.Output.Height)
	}
}

// The daemon pushes to a real nginx-rtmp while a WebRTC viewer watches:
// ffprobe reads the stream back from nginx; nginx killed and restarted is
// pushed to again within 5 s; the viewer sees no gap over 300 ms
// meanwhile; the push stops and starts through the API (with the token);
// the stream key shows nowhere.
func TestPushToNginxUnderAViewer(t *testing.T) {
	if testing.Short() {
		t.Skip("real nginx: not in -short")
	}
	srv := rtmptest.StartT(t)
	favourDaemon(t)
	cfg := testConfig()
	cfg.HTTP.Token = "push-e2e-token"
	cfg.Push.Destinations = []configs.PushDestination{{
		Name: "nginx", URL: srv.URL, Key: e2eStreamKey, Start: configs.PushAlways, Audio: configs.AudioSilent,
	}}
	var logs proc.Log
	d := startTestDaemonLogging(t, cfg, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	base := "http://" + d.HTTPAddr()
	var gaps gapMeter
	watchWith(t, base, viewer.Options{Logger: quietLogger(), OnAU: gaps.observe})

	waitPushState(t, base, 15*time.Second, "live", pushLive)
	checkNginxStream(t, srv, cfg)

	gaps.reset()
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	lost := waitPushState(t, base, 15*time.Second, "lost", func(p pushNow) bool { return !pushLive(p) && p.Error != "" })
	t.Logf("nginx killed: push %s, %q", lost.State, lost.Error)
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	again := waitPushState(t, base, 15*time.Second, "live again", pushLive)
	took := time.Since(back)
	t.Logf("live again %s after nginx came back (%d reconnects)", took, again.Reconnects)
	if took > 5*time.Second {
		t.Errorf("the push came back %s after nginx, want within 5 s", took)
	}
	checkNginxStream(t, srv, cfg)
	g, at := gaps.worst()
	t.Logf("the viewer's longest gap between frames meanwhile: %s (machine load %s)", g, loadAverage())
	if g > 300*time.Millisecond {
		t.Errorf("the viewer saw a %s gap (at %s, machine load %s) while nginx died and came back", g, at.Format("15:04:05.000"), loadAverage())
	}

	put := func(body, token string) int {
		code, _ := putJSON(t, base+"/api/push/nginx", body, token)
		return code
	}
	if code := put(`{"enabled":false}`, ""); code != http.StatusUnauthorized {
		t.Fatalf("PUT /api/push without the token: %d", code)
	}
	if code := put(`{"enabled":false}`, cfg.HTTP.Token.Reveal()); code != http.StatusOK {
		t.Fatalf("PUT /api/push off: %d", code)
	}
	waitPushState(t, base, 5*time.Second, "off", func(p pushNow) bool { return p.State == "off" && !p.Enabled })
	if code := put(`{"enabled":true}`, cfg.HTTP.Token.Reveal()); code != http.StatusOK {
		t.Fatalf("PUT /api/push on: %d", code)
	}
	waitPushState(t, base, 15*time.Second, "live after the PUT", pushLive)

	if s := statusJSON(t, base); strings.Contains(s, e2eStreamKey) || strings.Contains(logs.String(), e2eStreamKey) {
		t.Fatalf("the stream key shows in status or the log")
	}
}

// putJSON PUTs a JSON body, with the bearer token unless it is "", and
// returns the status and the reply.
func putJSON(t *testing.T, url, body, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
