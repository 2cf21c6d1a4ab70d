package signaling

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pipcam/pipcam/internal/viewer"
)

// jpegSource is a VideoSource that also makes JPEG, like the graph: a
// snapshot is a real JPEG, and publish hands one to every subscriber the
// way the graph does (never waiting).
type jpegSource struct {
	idleSource
	frame []byte
	err   error // what Snapshot and SubscribeJPEG fail with, if set

	mu   sync.Mutex
	subs map[chan []byte]bool
}

func newJPEGSource(t testing.TB, w, h, noise int) *jpegSource {
	return &jpegSource{frame: testJPEG(t, w, h, noise), subs: map[chan []byte]bool{}}
}

// testJPEG encodes a w x h picture; noise makes it big (hard to compress).
func testJPEG(t testing.TB, w, h, noise int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	seed := uint32(1)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			seed = seed*1664525 + 1013904223
			n := uint8(seed>>24) % uint8(max(noise, 1))
			img.Set(x, y, color.RGBA{uint8(x) + n, uint8(y) + n, 128 + n, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func (s *jpegSource) Snapshot(ctx context.Context) ([]byte, error) {
	if s.err != nil {
		return nil, s.err
	}
	return s.frame, nil
}

func (s *jpegSource) SubscribeJPEG(buffer int) (<-chan []byte, func(), error) {
	if s.err != nil {
		return nil, nil, s.err
	}
	ch := make(chan []byte, buffer)
	s.mu.Lock()
	s.subs[ch] = true
	s.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			s.mu.Lock()
			delete(s.subs, ch)
			s.mu.Unlock()
			close(ch)
		})
	}, nil
}

func (s *jpegSource) publish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.subs {
		select {
		case ch <- s.frame:
		default:
		}
	}
}

func (s *jpegSource) subscribers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

// pump publishes every interval until the test ends.
func (s *jpegSource) pump(t *testing.T, every time.Duration) {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				s.publish()
			case <-stop:
				return
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
}

func TestSnapshotURLsOfEveryClient(t *testing.T) {
	src := newJPEGSource(t, 64, 48, 1)
	_, hs := startServer(t, src, nil)
	for _, path := range []string{
		"/?action=snapshot",                     // mjpg-streamer, OctoPrint's timelapse
		"/?action=snapshot&bypassCache=1712345", // Mainsail's adaptive MJPEG
		"/?action=snapshot&cacheBust=1712345",   // Fluidd's
		"/snapshot.jpg",
		"/snapshot", // camera-streamer
	} {
		resp, body := do(t, http.MethodGet, hs.URL+path, "", "", map[string]string{"Origin": "http://octopi.local"})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "image/jpeg" {
			t.Errorf("GET %s: Content-Type %q", path, ct)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("GET %s: Cache-Control %q, want no-store", path, cc)
		}
		if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("GET %s from another origin: a viewing endpoint without CORS for every origin", path)
		}
		cfg, err := jpeg.DecodeConfig(strings.NewReader(body))
		if err != nil || cfg.Width != 64 || cfg.Height != 48 {
			t.Errorf("GET %s: %dx%d %v, want the 64x48 JPEG", path, cfg.Width, cfg.Height, err)
		}
	}
}

func TestSnapshotErrorsSayWhy(t *testing.T) {
	t.Run("no JPEG source", func(t *testing.T) {
		_, hs := startServer(t, newIdleSource(), nil)
		resp, body := do(t, http.MethodGet, hs.URL+"/snapshot.jpg", "", "", nil)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "jpeg.enabled") {
			t.Fatalf("got %d %q, want 404 naming jpeg.enabled", resp.StatusCode, body)
		}
	})
	t.Run("turned off", func(t *testing.T) {
		src := newJPEGSource(t, 16, 16, 1)
		src.err = fmt.Errorf("JPEG branch: %w", errors.ErrUnsupported)
		_, hs := startServer(t, src, nil)
		for _, path := range []string{"/?action=snapshot", "/?action=stream"} {
			resp, body := do(t, http.MethodGet, hs.URL+path, "", "", nil)
			if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "jpeg.enabled: false") {
				t.Fatalf("GET %s: %d %q, want 404 naming jpeg.enabled", path, resp.StatusCode, body)
			}
		}
	})
	t.Run("failure text stays inside", func(t *testing.T) {
		src := newJPEGSource(t, 16, 16, 1)
		src.err = errors.New("gst: element jpegenc0 internal data stream error")
		_, hs := startServer(t, src, nil)
		resp, body := do(t, http.MethodGet, hs.URL+"/?action=snapshot", "", "", nil)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("got %d (Retry-After %q), want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		if strings.Contains(body, "jpegenc") || strings.Contains(body, "gst") {
			t.Fatalf("internal error text reached the client: %q", body)
		}
	})
	t.Run("unknown action", func(t *testing.T) {
		_, hs := startServer(t, newJPEGSource(t, 16, 16, 1), nil)
		resp, body := do(t, http.MethodGet, hs.URL+"/?action="+url.QueryEscape("<script>"+strings.Repeat("x", 100)), "", "", nil)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "action=snapshot") {
			t.Fatalf("got %d %q, want 400 naming the valid actions", resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || len(body) > 200 {
			t.Fatalf("error reply %q (%s) is not short plain text", body, ct)
		}
	})
}

func TestDashboardIsServedAtRoot(t *testing.T) {
	_, hs := startServer(t, newJPEGSource(t, 16, 16, 1), nil)
	resp, body := do(t, http.MethodGet, hs.URL+"/", "", "", nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'self'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Fatalf("dashboard CSP %q", csp)
	}
	// Relative URLs only: the page must work behind OctoPi's /webcam/.
	for _, ref := range []string{`src="dashboard/app.js"`, `href="dashboard/style.css"`} {
		if !strings.Contains(body, ref) {
			t.Errorf("page lacks the relative reference %s", ref)
		}
	}
	for _, abs := range []string{`src="/`, `href="/`, "http://", "https://"} {
		if strings.Contains(body, abs) {
			t.Errorf("page has an absolute reference %q", abs)
		}
	}
	js := assetBody(t, hs.URL+"/dashboard/app.js", "text/javascript")
	for _, abs := range []string{"'/", "`/", "\"/", "http://", "https://"} {
		if strings.Contains(js, "fetch("+abs) || strings.Contains(js, "src = "+abs) {
			t.Errorf("app.js fetches an absolute URL (%s…)", abs)
		}
	}
	assetBody(t, hs.URL+"/dashboard/style.css", "text/css")
	for _, path := range []string{"/dashboard/", "/dashboard/nope.js", "/dashboard/../server.go"} {
		if resp, _ := do(t, http.MethodGet, hs.URL+path, "", "", nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
}

func assetBody(t *testing.T, u, wantType string) string {
	t.Helper()
	resp, body := do(t, http.MethodGet, u, "", "", nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), wantType) {
		t.Fatalf("GET %s: %d %q, want 200 %s", u, resp.StatusCode, resp.Header.Get("Content-Type"), wantType)
	}
	return body
}

// The stream is framed as mjpg-streamer frames it, and a standard
// multipart reader takes it apart into the JPEGs.
func TestMJPEGFraming(t *testing.T) {
	src := newJPEGSource(t, 64, 48, 1)
	src.pump(t, 20*time.Millisecond)
	_, hs := startServer(t, src, nil)
	for _, path := range []string{"/?action=stream", "/stream"} {
		mr, end := openStream(t, hs.URL+path)
		for i := 0; i < 3; i++ {
			part, err := mr.NextPart()
			if err != nil {
				t.Fatalf("GET %s: part %d: %v", path, i, err)
			}
			data, err := io.ReadAll(part)
			if err != nil {
				t.Fatal(err)
			}
			if part.Header.Get("Content-Type") != "image/jpeg" || part.Header.Get("Content-Length") != strconv.Itoa(len(data)) {
				t.Fatalf("part %d headers %v for %d bytes", i, part.Header, len(data))
			}
			if !bytes.Equal(data, src.frame) {
				t.Fatalf("part %d is not the JPEG", i)
			}
		}
		end()
	}
	waitFor(t, 5*time.Second, "MJPEG subscriptions to end when their clients leave", func() bool { return src.subscribers() == 0 })
}

// A client that stops reading is dropped after the write timeout; the
// source never waits for it and a viewer that reads keeps getting pictures.
func TestMJPEGStuckClientIsDropped(t *testing.T) {
	src := newJPEGSource(t, 640, 480, 64) // big, noisy pictures fill buffers fast
	src.pump(t, 10*time.Millisecond)
	_, hs := startServer(t, src, nil)

	conn, err := viewer.OpenStuckMJPEG(strings.TrimPrefix(hs.URL, "http://"), "/?action=stream")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	waitFor(t, 5*time.Second, "the stuck client's subscription", func() bool { return src.subscribers() == 1 })

	mr, end := openStream(t, hs.URL+"/stream")
	defer end()
	got := 0
	deadline := time.Now().Add(60 * time.Second)
	for src.subscribers() > 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the client that stopped reading is still subscribed after 60 s")
		}
		part, err := mr.NextPart()
		if err != nil {
			t.Fatalf("the reading viewer's stream broke after %d pictures: %v", got, err)
		}
		if _, err := io.Copy(io.Discard, part); err != nil {
			t.Fatal(err)
		}
		got++
	}
	// The reader kept going meanwhile and still does.
	for i := 0; i < 5; i++ {
		part, err := mr.NextPart()
		if err != nil {
			t.Fatalf("the reading viewer stopped after the stuck one was dropped: %v", err)
		}
		_, _ = io.Copy(io.Discard, part)
	}
	if got < 10 {
		t.Fatalf("the reading viewer got only %d pictures while the stuck one was being dropped", got)
	}
}

func TestMJPEGViewerLimit(t *testing.T) {
	src := newJPEGSource(t, 16, 16, 1)
	src.pump(t, 20*time.Millisecond)
	_, hs := startServer(t, src, func(o *Options) { o.MaxViewers = 1 })
	_, end := openStream(t, hs.URL+"/stream")
	defer end()
	resp, body := do(t, http.MethodGet, hs.URL+"/?action=stream", "", "", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "too many") {
		t.Fatalf("second viewer over a limit of 1: %d %q", resp.StatusCode, body)
	}
	// Snapshots are not streams: they are not counted.
	if resp, _ := do(t, http.MethodGet, hs.URL+"/snapshot.jpg", "", "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("snapshot while the MJPEG place is taken: %d", resp.StatusCode)
	}
}

// openStream GETs an MJPEG URL, checks it is mjpg-streamer's multipart
// stream and returns a reader of its parts; end closes it.
func openStream(t *testing.T, url string) (*multipart.Reader, func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusOK || err != nil || mt != "multipart/x-mixed-replace" || params["boundary"] != mjpegBoundary {
		resp.Body.Close()
		cancel()
		t.Fatalf("GET %s: %d, Content-Type %q", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return multipart.NewReader(resp.Body, params["boundary"]), func() { cancel(); resp.Body.Close() }
}

// The stream outlives the HTTP server's read and write timeouts (they are
// there for slow signaling clients, not for viewers that keep watching).
func TestMJPEGOutlivesServerTimeouts(t *testing.T) {
	src := newJPEGSource(t, 16, 16, 1)
	src.pump(t, 50*time.Millisecond)
	s, _ := startServer(t, src, nil)
	hs := httptest.NewUnstartedServer(s.Handler())
	hs.Config.ReadTimeout, hs.Config.WriteTimeout = 500*time.Millisecond, 500*time.Millisecond
	hs.Start()
	defer hs.Close()
	mr, end := openStream(t, hs.URL+"/?action=stream")
	defer end()
	deadline := time.Now().Add(2 * time.Second) // four times the timeouts
	for n := 0; time.Now().Before(deadline); n++ {
		part, err := mr.NextPart()
		if err != nil {
			t.Fatalf("stream ended after %d pictures: %v", n, err)
		}
		_, _ = io.Copy(io.Discard, part)
	}
}
