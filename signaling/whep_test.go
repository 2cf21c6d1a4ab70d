package signaling

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pipcam/pipcam/configs"
	"github.com/pipcam/pipcam/internal/viewer"
	"github.com/pipcam/pipcam/media"
)

// receiveSome checks that the first AU is a decodable start and that more
// AUs keep arriving.
func receiveSome(t *testing.T, v *viewer.Viewer, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for i := 0; i < n; i++ {
		select {
		case au := <-v.AUs():
			if i == 0 && !media.IsDecodableStart(au.Data) {
				t.Fatalf("first AU is not a decodable start: NAL types %v", media.Types(au.Data))
			}
		case <-ctx.Done():
			t.Fatalf("got %d of %d AUs; stats %+v", i, n, v.Stats())
		}
	}
	if g := v.Stats().Gaps; g != 0 {
		t.Errorf("%d sequence gaps on loopback", g)
	}
}

func TestWHEPHappyPath(t *testing.T) {
	src := newReplaySource(t)
	s, hs := startServer(t, src, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	v, err := viewer.DialWHEP(ctx, hs.URL, viewer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	receiveSome(t, v, 20)
	t.Logf("POST to first decodable AU: %s", v.FirstDecodableAt().Sub(v.Started()).Round(time.Millisecond))
	if !strings.HasPrefix(v.SessionURL(), hs.URL+"/whep/") {
		t.Errorf("session URL %q", v.SessionURL())
	}
	if st := s.Stats(); st.Viewers != 1 || st.Sessions != 1 {
		t.Errorf("stats %+v, want 1 viewer", st)
	}
	if err := v.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	waitFor(t, 10*time.Second, "session removed after DELETE", func() bool { return s.Stats().Sessions == 0 })
}

func TestWHEPMainsail(t *testing.T) {
	checkLeaks(t)
	src := newReplaySource(t)
	s, hs := startServer(t, src, func(o *Options) {
		o.WebRTC = configs.WebRTC{ICEServers: []configs.ICEServer{
			{URLs: []string{"stun:stun.example.org:3478"}},
		}}
	})

	// OPTIONS (Mainsail's own, after its preflight): 204 and a Link per
	// ICE server, CORS headers.
	resp, _ := do(t, http.MethodOptions, hs.URL+"/whep", "", "", map[string]string{"Origin": "http://mainsail.local"})
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("OPTIONS /whep: %s", resp.Status)
	}
	if l := resp.Header.Get("Link"); l != `<stun:stun.example.org:3478>; rel="ice-server"` {
		t.Errorf("Link %q", l)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "Location") {
		t.Errorf("CORS headers: %v", resp.Header)
	}

	// Mainsail flavour: early POST, video+audio sendrecv, PATCH per candidate.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	v, err := viewer.DialWHEP(ctx, hs.URL, viewer.Options{Mainsail: true})
	if err != nil {
		t.Fatal(err)
	}
	receiveSome(t, v, 10)
	if !strings.Contains(v.RemoteSDP(), "a=sendonly") {
		t.Errorf("answer video is not sendonly:\n%s", v.RemoteSDP())
	}
	checkAudioDeclined(t, v.RemoteSDP())

	// PATCH: 204 for the session, 404 for an unknown id, 415 for a wrong type.
	frag := "a=ice-ufrag:abcd\r\na=ice-pwd:efghijklmnopqrstuvwxyz\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=end-of-candidates\r\n"
	if r, b := do(t, http.MethodPatch, v.SessionURL(), "application/trickle-ice-sdpfrag", frag, nil); r.StatusCode != http.StatusNoContent {
		t.Errorf("PATCH: %s %s", r.Status, b)
	}
	if r, _ := do(t, http.MethodPatch, hs.URL+"/whep/nosuchsession", "application/trickle-ice-sdpfrag", frag, nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("PATCH unknown id: %s", r.Status)
	}
	if r, _ := do(t, http.MethodPatch, v.SessionURL(), "text/plain", frag, nil); r.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("PATCH text/plain: %s", r.Status)
	}
	if r, _ := do(t, http.MethodDelete, hs.URL+"/whep/nosuchsession", "", "", nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("DELETE unknown id: %s", r.Status)
	}
	if err := v.Close(); err != nil { // sends DELETE, expects 200
		t.Errorf("close: %v", err)
	}
	waitFor(t, 10*time.Second, "session removed after DELETE", func() bool { return s.Stats().Sessions == 0 })
}

// checkAudioDeclined checks that an answer's audio m-line is rejected
// (port 0) or inactive.
func checkAudioDeclined(t *testing.T, answer string) {
	t.Helper()
	sections := strings.Split(answer, "\nm=")
	for _, sec := range sections[1:] {
		if !strings.HasPrefix(sec, "audio ") {
			continue
		}
		if strings.HasPrefix(sec, "audio 0 ") || strings.Contains(sec, "a=inactive") {
			return
		}
		t.Errorf("audio m-line not declined:\nm=%s", sec)
		return
	}
	t.Errorf("answer has no audio m-line at all (the offer had one):\n%s", answer)
}

// TestWHEPRelativeLocation: Location is "whep/{id}", relative, so it
// resolves behind any prefix; the MediaMTX-style /{name}/whep serves the
// same stream, with PATCH and DELETE at the resolved URL.
func TestWHEPRelativeLocation(t *testing.T) {
	src := newReplaySource(t)
	s, hs := startServer(t, src, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for _, c := range []struct {
		base     string
		mainsail bool
	}{
		{hs.URL + "/cam", false},
		{hs.URL + "/my_printer-1", true},
		{hs.URL, false},
	} {
		v, err := viewer.DialWHEP(ctx, c.base, viewer.Options{Mainsail: c.mainsail})
		if err != nil {
			t.Fatal(err)
		}
		receiveSome(t, v, 5)
		if !strings.HasPrefix(v.SessionURL(), c.base+"/whep/") {
			t.Errorf("session URL %q, want under %s/whep/", v.SessionURL(), c.base)
		}
		if err := v.Close(); err != nil { // DELETE at the session URL: 200
			t.Errorf("close: %v", err)
		}
	}
	waitFor(t, 10*time.Second, "sessions removed after DELETE", func() bool { return s.Stats().Sessions == 0 })

	resp, _ := do(t, http.MethodPost, hs.URL+"/cam/whep", "application/sdp", h264OfferNoCandidates(t), nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusCreated || !strings.HasPrefix(loc, "whep/") || strings.Count(loc, "/") != 1 {
		t.Errorf("POST /cam/whep: %s, Location %q, want whep/{id}", resp.Status, loc)
	}
	for _, path := range []string{"/a.b/whep", "/" + strings.Repeat("x", 65) + "/whep"} {
		if resp, body := do(t, http.MethodPost, hs.URL+path, "application/sdp", "v=0", nil); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "stream name") {
			t.Errorf("POST %s: %s %q, want 400 about the stream name", path, resp.Status, body)
		}
	}
	if resp, _ := do(t, http.MethodOptions, hs.URL+"/cam/whep", "", "", nil); resp.StatusCode != http.StatusNoContent {
		t.Errorf("OPTIONS /cam/whep: %s", resp.Status)
	}
	if resp, _ := do(t, http.MethodPatch, hs.URL+"/cam/whep/nosuch", "application/trickle-ice-sdpfrag", "a=end-of-candidates\r\n", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("PATCH /cam/whep/nosuch: %s", resp.Status)
	}
}

func TestLinkHeaders(t *testing.T) {
	var logs strings.Builder
	_, hs := startServer(t, newIdleSource(), func(o *Options) {
		o.Logger = slogTo(&logs)
		o.WebRTC = configs.WebRTC{ICEServers: []configs.ICEServer{
			{URLs: []string{"stun:stun.example.org:3478"}},
			{URLs: []string{"turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349"}, Username: "pi", Credential: "turn-pass"},
		}}
	})
	resp, _ := do(t, http.MethodOptions, hs.URL+"/whep", "", "", nil)
	want := []string{
		`<stun:stun.example.org:3478>; rel="ice-server"`,
		`<turn:turn.example.org:3478?transport=udp>; rel="ice-server"; username="pi"; credential="turn-pass"; credential-type="password"`,
		`<turns:turn.example.org:5349>; rel="ice-server"; username="pi"; credential="turn-pass"; credential-type="password"`,
	}
	if got := resp.Header.Values("Link"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Link headers:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A preflight gets no Link (as MediaMTX).
	resp, _ = do(t, http.MethodOptions, hs.URL+"/whep", "", "", map[string]string{"Access-Control-Request-Method": "POST"})
	if resp.StatusCode != 204 || len(resp.Header.Values("Link")) != 0 {
		t.Errorf("preflight: %s Link %v", resp.Status, resp.Header.Values("Link"))
	}
	// camera-streamer hands the servers to the client in the offer reply.
	resp, body := do(t, http.MethodPost, hs.URL+"/webrtc", "text/plain", `{"type":"request"}`, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `"iceServers":[{"urls":["stun:stun.example.org:3478"]},{"urls":["turn:turn.example.org:3478?transport=udp","turns:turn.example.org:5349"],"username":"pi","credential":"turn-pass"}]`) {
		t.Errorf("request reply: %s %s", resp.Status, body)
	}
	_, status := do(t, http.MethodGet, hs.URL+"/api/status", "", "", nil)
	if strings.Contains(status, "turn-pass") || strings.Contains(logs.String(), "turn-pass") {
		t.Error("the TURN credential leaked into status or logs")
	}
}
