package signaling

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pipcam/pipcam/configs"
)

// fakeLayout is a LayoutControl that validates with configs like the
// compositor does and keeps the value.
type fakeLayout struct {
	mu sync.Mutex
	l  configs.Layout
}

func (f *fakeLayout) Layout() configs.Layout { f.mu.Lock(); defer f.mu.Unlock(); return f.l }
func (f *fakeLayout) SetLayout(l configs.Layout) error {
	if err := l.Validate([]string{"nozzle", "bed"}); err != nil {
		return err
	}
	f.mu.Lock()
	f.l = l
	f.mu.Unlock()
	return nil
}

func newFakeLayout() *fakeLayout {
	return &fakeLayout{l: configs.Layout{Mode: configs.LayoutPiP, Main: "bed", Inset: "nozzle", Corner: "top-right", Size: 0.3, Margin: 16}}
}

func TestLayoutToken(t *testing.T) {
	const tok = "s3cret-token"
	const dash = "http://dash.local:8081"
	cases := []struct {
		name   string
		listen string
		token  configs.Secret
		hdr    map[string]string // "self" as Origin: the server's own URL
		want   int
		says   string
	}{
		{"loopback no token open", "127.0.0.1:8080", "", nil, 200, ""},
		{"lan no token refused", "0.0.0.0:8080", "", map[string]string{"Authorization": "Bearer anything"}, 403, "http.token"},
		{"lan token missing", ":8080", tok, nil, 401, "http.token"},
		{"lan token wrong", ":8080", tok, map[string]string{"Authorization": "Bearer nope"}, 401, "http.token"},
		{"lan token right", ":8080", tok, map[string]string{"Authorization": "Bearer " + tok}, 200, ""},
		{"loopback token enforced", "127.0.0.1:8080", tok, nil, 401, "http.token"},
		{"loopback token right", "127.0.0.1:8080", tok, map[string]string{"Authorization": "bearer " + tok}, 200, ""},
		// Behind OctoPi's haproxy every LAN client comes from 127.0.0.1.
		{"loopback proxied xff", "127.0.0.1:8080", "", map[string]string{"X-Forwarded-For": "192.168.1.50"}, 403, "proxy"},
		{"loopback proxied forwarded", "127.0.0.1:8080", "", map[string]string{"Forwarded": "for=192.168.1.50"}, 403, "http.token"},
		{"loopback proxied x-real-ip", "127.0.0.1:8080", "", map[string]string{"X-Real-IP": "192.168.1.50"}, 403, "http.token"},
		{"proxied with token", "127.0.0.1:8080", tok, map[string]string{"X-Forwarded-For": "192.168.1.50", "Authorization": "Bearer " + tok}, 200, ""},
		// Any web page the user opens could send the request.
		{"loopback foreign origin", "127.0.0.1:8080", "", map[string]string{"Origin": "http://evil.example"}, 403, "allowed_origins"},
		{"loopback null origin", "127.0.0.1:8080", "", map[string]string{"Origin": "null"}, 403, "allowed_origins"},
		{"foreign origin with token", ":8080", tok, map[string]string{"Origin": "http://evil.example", "Authorization": "Bearer " + tok}, 403, "allowed_origins"},
		{"own page", "127.0.0.1:8080", "", map[string]string{"Origin": "self"}, 200, ""},
		{"allowed origin", "127.0.0.1:8080", "", map[string]string{"Origin": dash}, 200, ""},
		{"allowed origin with token", ":8080", tok, map[string]string{"Origin": dash, "Authorization": "Bearer " + tok}, 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fl := newFakeLayout()
			_, hs := startServer(t, newIdleSource(), func(o *Options) {
				o.Layout = fl
				o.HTTP = configs.HTTP{Listen: c.listen, Token: c.token, AllowedOrigins: []configs.Origin{dash}}
			})
			hdr := map[string]string{}
			for k, v := range c.hdr {
				if v == "self" {
					v = hs.URL
				}
				hdr[k] = v
			}
			resp, body := do(t, http.MethodPut, hs.URL+"/api/layout", "application/json", `{"main":"nozzle","inset":"bed"}`, hdr)
			if resp.StatusCode != c.want {
				t.Fatalf("PUT: %s %s, want %d", resp.Status, body, c.want)
			}
			if strings.Contains(body, tok) {
				t.Errorf("reply leaks the token: %s", body)
			}
			if !strings.Contains(body, c.says) {
				t.Errorf("reply does not say what to set (%s): %s", c.says, body)
			}
			if c.want != 200 {
				return
			}
			var got configs.Layout
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatal(err)
			}
			// Omitted fields keep their values.
			if got.Main != "nozzle" || got.Inset != "bed" || got.Size != 0.3 || got.Margin != 16 || got.Mode != configs.LayoutPiP {
				t.Errorf("layout after PUT: %+v", got)
			}
		})
	}
}

func TestLayoutValidation(t *testing.T) {
	fl := newFakeLayout()
	_, hs := startServer(t, newIdleSource(), func(o *Options) { o.Layout = fl })
	for body, want := range map[string]string{
		`{"main":"garage"}`: "not a camera",
		`{"size":0.9}`:      "size",
		`{"colour":"red"}`:  "unknown field",
		`{"mode":"mosaic"}`: "mode",
		`{"main":"bed"} {}`: "data after",
		`{"main":"nozzle",`: "bad layout",
	} {
		resp, got := do(t, http.MethodPut, hs.URL+"/api/layout", "application/json", body, nil)
		if resp.StatusCode != 400 || !strings.Contains(got, want) {
			t.Errorf("PUT %s: %s %s, want 400 saying %q", body, resp.Status, got, want)
		}
	}
	if fl.Layout().Main != "bed" {
		t.Errorf("a refused PUT changed the layout: %+v", fl.Layout())
	}
	resp, got := do(t, http.MethodGet, hs.URL+"/api/layout", "", "", nil)
	if resp.StatusCode != 200 || !strings.Contains(got, `"main":"bed"`) {
		t.Errorf("GET: %s %s", resp.Status, got)
	}

	// No LayoutControl: 501.
	_, hs2 := startServer(t, newIdleSource(), nil)
	if resp, _ := do(t, http.MethodGet, hs2.URL+"/api/layout", "", "", nil); resp.StatusCode != http.StatusNotImplemented {
		t.Errorf("GET without layout control: %s", resp.Status)
	}
}

// TestControlFromLAN: a loopback listener with no token is still closed to
// a peer that is not loopback (checked in the handler: a LAN peer cannot
// reach a loopback listener in a test).
func TestControlFromLAN(t *testing.T) {
	s, _ := startServer(t, newIdleSource(), func(o *Options) { o.Layout = newFakeLayout() })
	req := httptest.NewRequest(http.MethodPut, "/api/layout", strings.NewReader(`{"corner":"top-left"}`))
	req.RemoteAddr = "192.0.2.7:40000"
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "http.token") {
		t.Errorf("PUT from a LAN peer: %d %s", rec.Code, rec.Body.String())
	}
}

// slowLayout applies like the compositor does: it takes a moment (pad
// properties on a playing graph) and normalises what it is given (size to
// 0.05 steps), so what is applied is not always what was asked.
type slowLayout struct{ fakeLayout }

func (f *slowLayout) SetLayout(l configs.Layout) error {
	l.Size = math.Round(l.Size*20) / 20
	time.Sleep(5 * time.Millisecond)
	return f.fakeLayout.SetLayout(l)
}

// TestLayoutPutAtomic: two partial PUTs at once both take effect (the
// read-merge-apply is serialised), and replies and GET show what was
// applied.
func TestLayoutPutAtomic(t *testing.T) {
	fl := &slowLayout{*newFakeLayout()}
	_, hs := startServer(t, newIdleSource(), func(o *Options) { o.Layout = fl })
	corners := []string{"top-left", "top-right", "bottom-left", "bottom-right"}
	for round := 0; round < 8; round++ {
		corner, margin := corners[round%4], 10+round
		var wg sync.WaitGroup
		for _, body := range []string{`{"corner":"` + corner + `"}`, fmt.Sprintf(`{"margin":%d}`, margin)} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if resp, got := do(t, http.MethodPut, hs.URL+"/api/layout", "application/json", body, nil); resp.StatusCode != 200 {
					t.Errorf("PUT %s: %s %s", body, resp.Status, got)
				}
			}()
		}
		wg.Wait()
		if l := fl.Layout(); string(l.Corner) != corner || l.Margin != margin {
			t.Fatalf("round %d: a concurrent PUT was lost: corner %s margin %d, want %s %d", round, l.Corner, l.Margin, corner, margin)
		}
	}
	resp, body := do(t, http.MethodPut, hs.URL+"/api/layout", "application/json", `{"size":0.33}`, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `"size":0.35`) {
		t.Errorf("PUT size 0.33: %s %s, want the applied 0.35", resp.Status, body)
	}
	if _, body := do(t, http.MethodGet, hs.URL+"/api/layout", "", "", nil); !strings.Contains(body, `"size":0.35`) {
		t.Errorf("GET after PUT: %s, want the applied 0.35", body)
	}
}
