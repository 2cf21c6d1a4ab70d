package signaling

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"go.uber.org/goleak"

	"github.com/pipcam/pipcam/configs"
	"github.com/pipcam/pipcam/media"
)

func testLogger() *slog.Logger {
	if os.Getenv("PIPCAM_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startServer starts a signaling Server on an httptest loopback listener.
func startServer(t testing.TB, src VideoSource, mod func(*Options)) (*Server, *httptest.Server) {
	t.Helper()
	o := Options{
		Source: src,
		HTTP:   configs.HTTP{Listen: "127.0.0.1:0"},
		Logger: testLogger(),
	}
	if mod != nil {
		mod(&o)
	}
	s, err := New(context.Background(), o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		hs.Close()
		s.Close()
	})
	return s, hs
}

// getJSON GETs url and decodes its JSON body as a T.
func getJSON[T any](t testing.TB, url string) T {
	t.Helper()
	var v T
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return v
}

// waitFor polls cond until it is true or the deadline passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func do(t testing.TB, method, url, contentType, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// idleSource is a VideoSource that never delivers: enough for signaling
// tests without media. prompts counts the Prompt holds not yet released.
type idleSource struct{ requests, prompts atomic.Int64 }

func newIdleSource() *idleSource { return &idleSource{} }

func (s *idleSource) SubscribeBatched(buffer int) (<-chan media.AccessUnit, func()) {
	return make(chan media.AccessUnit, buffer), func() {}
}

func (s *idleSource) Prompt() func() {
	s.prompts.Add(1)
	var once sync.Once
	return func() { once.Do(func() { s.prompts.Add(-1) }) }
}
func (s *idleSource) RequestKeyframe() { s.requests.Add(1) }

func httptestServer(s *Server) *httptest.Server { return httptest.NewServer(s.Handler()) }

func slogTo(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// h264OfferNoCandidates is a browser-like recvonly H.264 offer with ICE
// credentials but no candidates: a session made from it never connects.
func h264OfferNoCandidates(t testing.TB) string {
	t.Helper()
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	return offer.SDP
}

// logBuffer collects log output safely across goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// checkLeaks fails the test if goroutines it started outlive it. Call it
// first: its cleanup then runs after every other (server, source).
func checkLeaks(t *testing.T) {
	t.Helper()
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		goleak.VerifyNone(t, before)
	})
}

// onBothChains runs f against a server with congestion control off
// ("plain") and on ("adaptive"): with it on, every packet carries a
// transport-wide sequence number and NACK answers pass its budget.
func onBothChains(t *testing.T, f func(t *testing.T, base string)) {
	for _, adaptive := range []bool{false, true} {
		name := "plain"
		if adaptive {
			name = "adaptive"
		}
		t.Run(name, func(t *testing.T) {
			checkLeaks(t)
			src := newReplaySource(t)
			if adaptive {
				_, base := adaptiveServer(t, src, &encoderKnobs{})
				f(t, base)
				return
			}
			_, hs := startServer(t, src, nil)
			f(t, hs.URL)
		})
	}
}
