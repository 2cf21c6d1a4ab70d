package signaling

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// serve runs srv on a loopback port until the test ends.
func serve(t *testing.T, srv *http.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return ln.Addr().String()
}

// TestSlowloris: clients that dribble their headers a byte at a time are
// cut off at the read-header timeout, and while 50 of them hang on, a
// normal request is served.
func TestSlowloris(t *testing.T) {
	checkLeaks(t)
	const readHeader = time.Second
	s, _ := startServer(t, newIdleSource(), func(o *Options) { o.Timeouts = Timeouts{ReadHeader: readHeader} })
	addr := serve(t, s.HTTPServer())

	const n = 50
	var wg sync.WaitGroup
	lasted := make(chan time.Duration, n)
	stop := make(chan struct{})
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		wg.Add(2)
		go func() { // dribble until the server hangs up (or the test ends)
			defer wg.Done()
			msg := "GET /api/status HTTP/1.1\r\nHost: pi\r\nX-Slow: " + strings.Repeat("a", 1000)
			for j := 0; j < len(msg); j++ {
				if _, err := c.Write([]byte{msg[j]}); err != nil {
					return
				}
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		go func() { // the server's hang-up ends this read
			defer wg.Done()
			defer c.Close()
			_, _ = io.Copy(io.Discard, c)
			lasted <- time.Since(start)
		}()
	}
	// A normal request while they all hang on.
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get("http://" + addr + "/api/status")
	if err != nil {
		t.Fatalf("normal request during the slowloris: %v", err)
	}
	resp.Body.Close()
	client.CloseIdleConnections()
	if resp.StatusCode != 200 {
		t.Errorf("normal request: %s", resp.Status)
	}

	deadline := time.After(readHeader + 5*time.Second)
	var worst time.Duration
	for i := 0; i < n; i++ {
		select {
		case d := <-lasted:
			worst = max(worst, d)
		case <-deadline:
			close(stop)
			t.Fatalf("%d of %d slow clients still connected %s after they started (read-header timeout %s)", n-i, n, readHeader+5*time.Second, readHeader)
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("slow clients cut off after at most %s (read-header timeout %s)", worst.Round(time.Millisecond), readHeader)
}

// TestKeepStreaming: a long response outlives the read and write timeouts
// only when it lifts them with KeepStreaming.
func TestKeepStreaming(t *testing.T) {
	s, _ := startServer(t, newIdleSource(), func(o *Options) {
		o.Timeouts = Timeouts{Read: 300 * time.Millisecond, Write: 300 * time.Millisecond}
	})
	srv := s.HTTPServer()
	const chunks = 10 // 100 ms apart: a second, beyond both timeouts
	stream := func(lift bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if lift {
				if err := KeepStreaming(w); err != nil {
					t.Error(err)
					return
				}
			}
			for i := 0; i < chunks; i++ {
				if _, err := fmt.Fprintf(w, "chunk %d\n", i); err != nil {
					return
				}
				if err := http.NewResponseController(w).Flush(); err != nil {
					return
				}
				select {
				case <-r.Context().Done():
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/lifted", stream(true))
	mux.Handle("/bounded", stream(false))
	srv.Handler = mux
	addr := serve(t, srv)

	count := func(path string) (int, error) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		n := 0
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			n++
		}
		return n, sc.Err()
	}
	if n, err := count("/lifted"); n != chunks || err != nil {
		t.Errorf("lifted stream: %d of %d chunks, %v", n, chunks, err)
	}
	if n, err := count("/bounded"); n == chunks && err == nil {
		t.Error("a stream that did not lift the deadlines outlived them: the test proves nothing")
	} else if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Logf("bounded stream ended after %d chunks: %v", n, err)
	}
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
}
