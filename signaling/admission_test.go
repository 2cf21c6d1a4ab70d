package signaling

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/pipcam/pipcam/internal/viewer"
)

// TestPendingFlood: 300 POSTs that never connect, from one address, take
// only that address's pending places; a real viewer from another address
// still connects and plays; the unconnected sessions are reaped.
func TestPendingFlood(t *testing.T) {
	checkLeaks(t)
	src := newReplaySource(t)
	s, hs := startServer(t, src, func(o *Options) { o.ConnectTimeout = 3 * time.Second })
	offer := h264OfferNoCandidates(t)

	var mu sync.Mutex
	codes := map[int]int{}
	jobs := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				resp, _ := do(t, http.MethodPost, hs.URL+"/whep", "application/sdp", offer, nil)
				mu.Lock()
				codes[resp.StatusCode]++
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < 300; i++ {
		jobs <- struct{}{}
	}
	close(jobs)
	wg.Wait()
	if codes[http.StatusCreated] != DefaultMaxPendingPerClient || codes[http.StatusTooManyRequests] != 300-DefaultMaxPendingPerClient {
		t.Fatalf("status codes %v, want %d × 201 and the rest 429", codes, DefaultMaxPendingPerClient)
	}

	// A viewer from 127.0.0.2.
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	client := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}, Timeout: 15 * time.Second}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	v, err := viewer.DialWHEP(ctx, hs.URL, viewer.Options{HTTPClient: client})
	if err != nil {
		t.Fatalf("viewer from another address: %v", err)
	}
	defer v.Close()
	receiveSome(t, v, 10)

	waitFor(t, 15*time.Second, "unconnected sessions reaped", func() bool {
		st := s.Stats()
		return st.Pending == 0 && st.Sessions == 1
	})
	// The flooding address has its places back.
	if resp, body := do(t, http.MethodPost, hs.URL+"/whep", "application/sdp", offer, nil); resp.StatusCode != http.StatusCreated {
		t.Errorf("POST after the reaping: %s %s", resp.Status, body)
	}
}

// TestPendingPerForwardedClient: behind a local proxy the last
// X-Forwarded-For entry is the client; each has its own pending places.
func TestPendingPerForwardedClient(t *testing.T) {
	_, hs := startServer(t, newIdleSource(), func(o *Options) { o.MaxPendingPerClient = 2 })
	offer := h264OfferNoCandidates(t)
	post := func(xff string) int {
		resp, _ := do(t, http.MethodPost, hs.URL+"/whep", "application/sdp", offer, map[string]string{"X-Forwarded-For": xff})
		return resp.StatusCode
	}
	for i, c := range []struct {
		xff  string
		want int
	}{
		{"192.168.1.50", 201},
		{"10.9.9.9, 192.168.1.50", 201}, // the client's own claim is not the client
		{"192.168.1.50", 429},
		{"192.168.1.51", 201},
		{"garbage", 201}, // unparsable: the TCP peer (127.0.0.1)
	} {
		if got := post(c.xff); got != c.want {
			t.Errorf("POST %d (X-Forwarded-For %q): %d, want %d", i, c.xff, got, c.want)
		}
	}
}

func TestClientAddr(t *testing.T) {
	for _, c := range []struct {
		remote, xff, want string
	}{
		{"127.0.0.1:5000", "", "127.0.0.1"},
		{"127.0.0.1:5000", "192.168.1.50", "192.168.1.50"},
		{"127.0.0.1:5000", "1.2.3.4, 192.168.1.50", "192.168.1.50"},
		{"[::1]:5000", "fd00::5", "fd00::5"},
		{"192.168.1.9:5000", "127.0.0.1", "192.168.1.9"}, // only a local proxy is believed
		{"[::ffff:192.168.1.9]:5000", "", "192.168.1.9"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := clientAddr(r); got != c.want {
			t.Errorf("clientAddr(%s, XFF %q) = %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
}

// The server holds the source's Prompt from its first session to the end
// of its last, so a viewer never waits for an idle source's batch.
func TestSourceIsPromptWhileThereAreSessions(t *testing.T) {
	src := newIdleSource()
	_, hs := startServer(t, src, nil)
	if n := src.prompts.Load(); n != 0 {
		t.Fatalf("prompt held %d times with no session", n)
	}
	var locations []string
	for range 2 {
		resp, body := do(t, http.MethodPost, hs.URL+"/whep", "application/sdp", h264OfferNoCandidates(t), nil)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("offer: %s %s", resp.Status, body)
		}
		loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		locations = append(locations, loc.String())
		if n := src.prompts.Load(); n != 1 {
			t.Fatalf("prompt held %d times with %d sessions, want 1", n, len(locations))
		}
	}
	for i, loc := range locations {
		if resp, body := do(t, http.MethodDelete, loc, "", "", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("delete %s: %s %s", loc, resp.Status, body)
		}
		want := int64(1)
		if i == len(locations)-1 {
			want = 0
		}
		// A session ends in its own goroutine after the DELETE answers.
		deadline := time.Now().Add(5 * time.Second)
		for src.prompts.Load() != want && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := src.prompts.Load(); n != want {
			t.Fatalf("prompt held %d times after %d of %d sessions ended, want %d", n, i+1, len(locations), want)
		}
	}
}
