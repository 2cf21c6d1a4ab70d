package signaling

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

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
	cases := []struct {
		name   string
		listen string
		token  configs.Secret
		auth   string
		want   int
	}{
		{"loopback no token open", "127.0.0.1:8080", "", "", 200},
		{"lan no token refused", "0.0.0.0:8080", "", "Bearer anything", 403},
		{"lan token missing", ":8080", tok, "", 401},
		{"lan token wrong", ":8080", tok, "Bearer nope", 401},
		{"lan token right", ":8080", tok, "Bearer " + tok, 200},
		{"loopback token enforced", "127.0.0.1:8080", tok, "", 401},
		{"loopback token right", "127.0.0.1:8080", tok, "bearer " + tok, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fl := newFakeLayout()
			_, hs := startServer(t, newIdleSource(), func(o *Options) {
				o.Layout = fl
				o.HTTP = configs.HTTP{Listen: c.listen, Token: c.token}
			})
			hdr := map[string]string{}
			if c.auth != "" {
				hdr["Authorization"] = c.auth
			}
			resp, body := do(t, http.MethodPut, hs.URL+"/api/layout", "application/json", `{"main":"nozzle","inset":"bed"}`, hdr)
			if resp.StatusCode != c.want {
				t.Fatalf("PUT: %s %s, want %d", resp.Status, body, c.want)
			}
			if strings.Contains(body, tok) {
				t.Errorf("reply leaks the token: %s", body)
			}
			if c.want == 403 && !strings.Contains(body, "http.token") {
				t.Errorf("403 does not say to set http.token: %s", body)
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
