package signaling

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pipcam/pipcam/internal/viewer"
)

// octoPiHAProxy is OctoPi's rule for the webcam: /webcam/ goes to
// 127.0.0.1:8080 with the prefix stripped and no header about it;
// everything else goes to OctoPrint.
const octoPiHAProxy = `global
	maxconn 256
defaults
	mode http
	option http-server-close
	option forwardfor
	timeout connect 5s
	timeout client 15min
	timeout server 15min
frontend public
	bind 127.0.0.1:%d
	use_backend webcam if { path_beg /webcam/ }
	default_backend octoprint
backend octoprint
	server octoprint1 %s
backend webcam
	http-request replace-path /webcam/(.*) /\1
	server webcam1 %s
`

// startHAProxy runs a real haproxy in front of webcam (pipcam) and
// octoprint and returns its base URL.
func startHAProxy(t *testing.T, webcam, octoprint string) string {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Fatal("haproxy not installed: run make deps (Debian package haproxy)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, octoPiHAProxy, port, octoprint, webcam), 0o644); err != nil {
		t.Fatal(err)
	}
	var out logBuffer
	cmd := exec.Command(bin, "-db", "-f", cfg)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start haproxy: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	waitFor(t, 10*time.Second, "haproxy listening", func() bool {
		select {
		case <-exited:
			t.Fatalf("haproxy exited:\n%s", out.String())
		default:
		}
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return "http://" + addr
}

func hostPort(u string) string { return strings.TrimPrefix(u, "http://") }

// TestBehindOctoPiHAProxy: every client flavour works through OctoPi's
// /webcam/ rule, with decodable H.264; OctoPrint's CORS preflight gets
// its grant; control is not open to proxied requests.
func TestBehindOctoPiHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("haproxy suite: not in -short")
	}
	src := newReplaySource(t)
	s, pipcam := startServer(t, src, func(o *Options) { o.Layout = newFakeLayout() })
	// OctoPrint's place: a request that lands here missed pipcam.
	octoprint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "this is OctoPrint, not the webcam: "+r.Method+" "+r.URL.Path, http.StatusMethodNotAllowed)
	}))
	t.Cleanup(octoprint.Close)
	proxy := startHAProxy(t, hostPort(pipcam.URL), hostPort(octoprint.URL))
	base := proxy + "/webcam"

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	flavours := []struct {
		name string
		dial func() (*viewer.Viewer, error)
	}{
		{"WHEP like Mainsail (PATCH trickle, last segment)", func() (*viewer.Viewer, error) {
			return viewer.DialWHEP(ctx, base, viewer.Options{Mainsail: true})
		}},
		{"WHEP like Fluidd (PATCH trickle, new URL(Location, endpoint))", func() (*viewer.Viewer, error) {
			return viewer.DialWHEP(ctx, base, viewer.Options{Fluidd: true})
		}},
		{"WHEP at a MediaMTX-style stream URL", func() (*viewer.Viewer, error) {
			return viewer.DialWHEP(ctx, base+"/cam", viewer.Options{Fluidd: true})
		}},
		{"camera-streamer request/answer/remote_candidate", func() (*viewer.Viewer, error) {
			return viewer.DialCameraStreamerRequest(ctx, base, viewer.Options{})
		}},
		{"camera-streamer client offer (OctoPrint 1.11)", func() (*viewer.Viewer, error) {
			return viewer.DialCameraStreamerOffer(ctx, base, viewer.Options{})
		}},
	}
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			v, err := f.dial()
			if err != nil {
				t.Fatal(err)
			}
			receiveSome(t, v, 10)
			if u := v.SessionURL(); u != "" && !strings.HasPrefix(u, base+"/") {
				t.Errorf("session URL %q is not behind the proxy prefix %s", u, base)
			}
			if err := v.Close(); err != nil { // WHEP: DELETE through the proxy
				t.Errorf("close: %v", err)
			}
		})
	}
	waitFor(t, 15*time.Second, "sessions ended", func() bool { return s.Stats().Sessions == 0 })

	// OctoPrint 1.11's classic webcam preflight, through the proxy.
	resp := preflight(t, base+"/webrtc", "http://octopi.local", "POST", "cache-control,content-type")
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), "cache-control") {
		t.Errorf("OctoPrint's preflight through haproxy: %s %v", resp.Status, resp.Header)
	}
	// pipcam listens on loopback without a token, but through the proxy
	// the request is the LAN's: control is refused.
	if resp, body := do(t, http.MethodPut, base+"/api/layout", "application/json", `{"corner":"top-left"}`, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("PUT /api/layout through haproxy without a token: %s %s", resp.Status, body)
	}
}
