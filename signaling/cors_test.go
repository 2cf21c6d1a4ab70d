package signaling

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pipcam/pipcam/configs"
)

func preflight(t *testing.T, url, origin, method, headers string) *http.Response {
	t.Helper()
	resp, _ := do(t, http.MethodOptions, url, "", "", map[string]string{
		"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers,
	})
	return resp
}

// TestCORS: viewing endpoints grant any origin whatever headers real
// clients ask for, with Max-Age; control endpoints grant only the
// configured origins.
func TestCORS(t *testing.T) {
	const allowed = "http://dash.local:8081"
	_, hs := startServer(t, newIdleSource(), func(o *Options) {
		o.Layout = newFakeLayout()
		o.HTTP.AllowedOrigins = []configs.Origin{allowed}
	})
	viewing := []struct{ path, method, headers string }{
		// OctoPrint 1.11's classic webcam: Cache-Control on every non-GET.
		{"/webrtc", "POST", "cache-control,content-type"},
		{"/whep", "POST", "content-type"},
		{"/cam/whep", "POST", "content-type,cache-control"},
		// Mainsail's PATCH trickle sends If-Match.
		{"/whep/abc", "PATCH", "content-type,if-match"},
		{"/whep/abc", "DELETE", ""},
		{"/api/status", "GET", "cache-control"},
		{"/api/layout", "GET", "cache-control"},
	}
	for _, c := range viewing {
		resp := preflight(t, hs.URL+c.path, "http://octopi.local", c.method, c.headers)
		h := resp.Header
		if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "*" ||
			h.Get("Access-Control-Allow-Methods") != c.method || h.Get("Access-Control-Max-Age") != "3600" {
			t.Errorf("preflight %s %s: %s %v", c.method, c.path, resp.Status, h)
		}
		for _, want := range strings.Split(c.headers, ",") {
			if want != "" && !strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), want) {
				t.Errorf("preflight %s %s: Allow-Headers %q lacks %s", c.method, c.path, h.Get("Access-Control-Allow-Headers"), want)
			}
		}
	}

	// The actual WHEP reply exposes its headers to the page's script.
	resp, _ := do(t, http.MethodPost, hs.URL+"/whep", "application/sdp", h264OfferNoCandidates(t), map[string]string{"Origin": "http://fluidd.local"})
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("POST /whep from a page: %s %v", resp.Status, resp.Header)
	}
	for _, want := range []string{"Location", "Etag", "Link", "Accept-Patch"} {
		if !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), want) {
			t.Errorf("Expose-Headers %q lacks %s", resp.Header.Get("Access-Control-Expose-Headers"), want)
		}
	}

	// Control: a foreign page gets no grant; the configured origin does.
	resp = preflight(t, hs.URL+"/api/layout", "http://evil.example", "PUT", "authorization,content-type")
	if resp.Header.Get("Access-Control-Allow-Origin") != "" || resp.Header.Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("control preflight from a foreign origin granted: %s %v", resp.Status, resp.Header)
	}
	resp = preflight(t, hs.URL+"/api/layout", allowed, "PUT", "authorization,content-type")
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != allowed ||
		!strings.Contains(strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), "authorization") {
		t.Errorf("control preflight from %s: %s %v", allowed, resp.Status, resp.Header)
	}
	// A control preflight asking for other headers is not granted.
	resp = preflight(t, hs.URL+"/api/layout", allowed, "PUT", "x-custom")
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("control preflight with x-custom granted: %v", resp.Header)
	}
	// No such endpoint: 404, not a grant.
	if resp := preflight(t, hs.URL+"/nope", "http://octopi.local", "POST", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("preflight /nope: %s", resp.Status)
	}
}
