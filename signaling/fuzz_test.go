package signaling

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pipcam/pipcam/configs"
)

func fuzzServer(f *testing.F) *Server {
	// Short reaping so the sessions valid inputs create do not pile up.
	// Client ICE servers are ignored: a mutated URL could name a real host
	// on the internet (FuzzClientICEServers covers their parsing).
	s, err := New(f.Context(), Options{Source: newIdleSource(), Logger: testLogger(), ConnectTimeout: time.Second,
		WebRTC: configs.WebRTC{IgnoreClientICEServers: true}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(s.Close)
	return s
}

// checkStatus accepts 2xx and 4xx, and 503: valid inputs create sessions
// and the fuzzer creates them faster than MaxViewers allows.
func checkStatus(t *testing.T, code int) {
	if code == http.StatusServiceUnavailable {
		return
	}
	if code < 200 || code >= 500 || (code >= 300 && code < 400) {
		t.Fatalf("status %d", code)
	}
}

func FuzzWHEPPost(f *testing.F) {
	f.Add(vp8OnlySDP)
	f.Add(audioOnlySDP)
	f.Add("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 H264/90000\r\n")
	f.Add("")
	s := fuzzServer(f)
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/whep", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/sdp")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkStatus(t, rec.Code)
	})
}

func FuzzCameraStreamer(f *testing.F) {
	f.Add(`{"type":"request"}`)
	f.Add(`{"type":"answer","id":"x","sdp":"v=0"}`)
	f.Add(`{"type":"remote_candidate","id":"x","candidates":[{"candidate":""}]}`)
	f.Add(`{"type":"offer","sdp":"v=0"}`)
	f.Add(`{"type":"request","iceServers":[{"urls":["stun:a"]}],"keepAlive":true}`)
	s := fuzzServer(f)
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/webrtc", strings.NewReader(body))
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkStatus(t, rec.Code)
		if rec.Code == 200 && rec.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("200 with Content-Type %q", rec.Header().Get("Content-Type"))
		}
	})
}

func FuzzClientICEServers(f *testing.F) {
	f.Add(`[{"urls":["stun:stun.l.google.com:19302"]}]`)
	f.Add(`[{"urls":"turn:t.example:3478?transport=tcp","username":"u","credential":"p"}]`)
	f.Add(`[{"urls":["stuns:[::1]:5349"]},{"urls":[]}]`)
	f.Fuzz(func(t *testing.T, body string) {
		var in []csICEServer
		if json.Unmarshal([]byte(body), &in) != nil {
			return
		}
		out, err := clientICEServers(in)
		if err != nil {
			return
		}
		n := 0
		for _, is := range out {
			for _, u := range is.URLs {
				n++
				if len(u) > maxICEFieldLen {
					t.Fatalf("URL of %d bytes accepted", len(u))
				}
				if _, err := (iceServer{URLs: []string{u}, Username: is.Username, Credential: is.Credential}).webrtc(), error(nil); err != nil {
					t.Fatal(err)
				}
			}
		}
		if len(out) > maxClientICEServers || n > maxClientICEURLs {
			t.Fatalf("%d servers, %d URLs accepted", len(out), n)
		}
	})
}

func FuzzTrickleFrag(f *testing.F) {
	f.Add("a=ice-ufrag:x\r\na=ice-pwd:y\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:1 1 udp 1 127.0.0.1 9 typ host\r\n")
	f.Add("a=end-of-candidates\n")
	f.Fuzz(func(t *testing.T, body string) {
		frag, err := parseTrickleFrag(body)
		if err != nil {
			return
		}
		for _, c := range frag.Candidates {
			if !strings.HasPrefix(c.Candidate, "candidate:") || c.SDPMLineIndex == nil {
				t.Fatalf("bad candidate %+v", c)
			}
		}
	})
}
