package signaling

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pipcam/pipcam/internal/haproxytest"
	"github.com/pipcam/pipcam/internal/viewer"
)

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
	proxy := haproxytest.Start(t, hostPort(pipcam.URL), hostPort(octoprint.URL))
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
