package signaling

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// TestInternalErrorHidden: an internal failure answers 500 "internal
// error"; the detail is in the log only.
func TestInternalErrorHidden(t *testing.T) {
	var logs logBuffer
	_, hs := startServer(t, newIdleSource(), func(o *Options) {
		o.Logger = slogTo(&logs)
		// An address rewrite to no address breaks gathering inside pion.
		o.SettingEngine = func(se *webrtc.SettingEngine) {
			if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{External: []string{"not-an-address"}, AsCandidateType: webrtc.ICECandidateTypeHost}); err != nil {
				t.Fatal(err)
			}
		}
	})
	resp, body := do(t, http.MethodPost, hs.URL+"/whep", "application/sdp", h264OfferNoCandidates(t), nil)
	if resp.StatusCode != http.StatusInternalServerError || body != "internal error\n" {
		t.Errorf("WHEP POST: %s %q, want 500 \"internal error\"", resp.Status, body)
	}
	resp, body = do(t, http.MethodPost, hs.URL+"/webrtc", "text/plain", `{"type":"request"}`, nil)
	if resp.StatusCode != http.StatusInternalServerError || strings.TrimSpace(body) != `{"error":"internal error"}` ||
		resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("camera-streamer request: %s %q", resp.Status, body)
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "invalid address rewrite mapping") {
		t.Errorf("the log lacks the detail:\n%s", logs.String())
	}
}

// blackHoleSTUN is a UDP socket on loopback that reads STUN requests and
// never answers: an unreachable STUN server, without leaving the machine.
func blackHoleSTUN(t *testing.T) (url string, got <-chan struct{}) {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		pc.Close()
		<-done
	})
	return "stun:" + pc.LocalAddr().String(), ch
}

// TestClientLeavesMidAnswer: a client that hangs up while the server
// gathers is neither an error in the log nor a leaked session.
func TestClientLeavesMidAnswer(t *testing.T) {
	checkLeaks(t)
	var logs logBuffer
	s, hs := startServer(t, newIdleSource(), func(o *Options) {
		o.Logger = slogTo(&logs)
		o.STUNWait = 10 * time.Second // the black hole holds the offer
	})
	stun, asked := blackHoleSTUN(t)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, hs.URL+"/webrtc",
		strings.NewReader(`{"type":"request","iceServers":[{"urls":["`+stun+`"]}]}`))
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	select {
	case <-asked: // the server is gathering now
	case <-time.After(10 * time.Second):
		t.Fatal("the server never asked the STUN server")
	}
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("the request finished although the client left")
	}
	waitFor(t, 10*time.Second, "the session ended", func() bool { return s.Stats().Sessions == 0 })
	waitFor(t, 5*time.Second, "the departure logged", func() bool { return strings.Contains(logs.String(), "client left") })
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("a client that left was logged as an error:\n%s", logs.String())
	}
}

// TestRejectsLogged: each refused request is logged with its reason and
// client, a few per window; the next line says how many were held back.
func TestRejectsLogged(t *testing.T) {
	var logs logBuffer
	s, hs := startServer(t, newIdleSource(), func(o *Options) { o.Logger = slogTo(&logs) })
	var clock atomic.Int64 // seconds past t0
	t0 := time.Now()
	s.rejects.now = func() time.Time { return t0.Add(time.Duration(clock.Load()) * time.Second) }
	for i := 0; i < 12; i++ {
		do(t, http.MethodPatch, hs.URL+"/whep/nosuch", "application/trickle-ice-sdpfrag", "a=end-of-candidates\r\n", nil)
	}
	lines := strings.Count(logs.String(), "request refused")
	if lines != rejectLogBurst || !strings.Contains(logs.String(), `reason="no such session" client=127.0.0.1 method=PATCH path=/whep/nosuch`) {
		t.Fatalf("%d lines, want %d with reason and client:\n%s", lines, rejectLogBurst, logs.String())
	}
	clock.Store(9)
	do(t, http.MethodPost, hs.URL+"/webrtc", "text/plain", `{"type":"nope"}`, nil)
	if n := strings.Count(logs.String(), "request refused"); n != rejectLogBurst {
		t.Errorf("%d lines within the window, want %d", n, rejectLogBurst)
	}
	clock.Store(10) // the next window
	do(t, http.MethodPost, hs.URL+"/webrtc", "text/plain", `{"type":"nope"}`, nil)
	if !strings.Contains(logs.String(), `reason="unknown type \"nope\"" client=127.0.0.1 method=POST path=/webrtc not_logged_before=8`) {
		t.Errorf("the held-back count is missing:\n%s", logs.String())
	}
}

func TestThrottle(t *testing.T) {
	th := newThrottle(10*time.Second, 2)
	t0 := time.Unix(1000, 0)
	for i, c := range []struct {
		at   time.Duration
		ok   bool
		held int
	}{
		{0, true, 0}, {time.Second, true, 0}, {2 * time.Second, false, 0}, {9 * time.Second, false, 0},
		{10 * time.Second, true, 2}, {11 * time.Second, true, 0}, {12 * time.Second, false, 0},
		{30 * time.Second, true, 1},
	} {
		ok, held := th.allow(t0.Add(c.at))
		if ok != c.ok || held != c.held {
			t.Errorf("event %d at %s: %v %d, want %v %d", i, c.at, ok, held, c.ok, c.held)
		}
	}
}
