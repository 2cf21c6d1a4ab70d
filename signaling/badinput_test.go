package signaling

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestBadInput(t *testing.T) {
	_, hs := startServer(t, newIdleSource(), nil)
	big := strings.Repeat("a", maxBodyBytes+1)
	cases := []struct {
		name, method, path, ctype, body string
		want                            int
		inBody                          string
		json                            bool
	}{
		{"whep wrong content type", "POST", "/whep", "application/json", "v=0", 415, "application/sdp", false},
		{"whep no content type", "POST", "/whep", "", "v=0", 415, "application/sdp", false},
		{"whep malformed sdp", "POST", "/whep", "application/sdp", "this is not sdp", 400, "parse SDP", false},
		{"whep no video", "POST", "/whep", "application/sdp", audioOnlySDP, 400, "no video", false},
		{"whep no h264", "POST", "/whep", "application/sdp", vp8OnlySDP, 400, "no H.264", false},
		{"whep too big", "POST", "/whep", "application/sdp", big, 413, "larger than", false},
		{"patch unknown", "PATCH", "/whep/unknown", "application/trickle-ice-sdpfrag", "a=end-of-candidates", 404, "no such session", false},
		{"delete unknown", "DELETE", "/whep/unknown", "", "", 404, "no such session", false},
		{"cs malformed json", "POST", "/webrtc", "application/json", "{nope", 400, "malformed JSON", true},
		{"cs trailing data", "POST", "/webrtc", "application/json", `{"type":"request"} x`, 400, "malformed JSON", true},
		{"cs unknown type", "POST", "/webrtc", "text/plain;charset=UTF-8", `{"type":"hello"}`, 400, "unknown type", true},
		{"cs missing type", "POST", "/webrtc", "text/plain", `{}`, 400, "missing", true},
		{"cs answer unknown id", "POST", "/webrtc", "text/plain", `{"type":"answer","id":"nope","sdp":"v=0"}`, 404, "no such session", true},
		{"cs candidate unknown id", "POST", "/webrtc", "text/plain", `{"type":"remote_candidate","id":"nope","candidates":[]}`, 404, "no such session", true},
		{"cs offer bad sdp", "POST", "/webrtc", "application/json; charset=UTF-8", `{"type":"offer","sdp":"garbage"}`, 400, "bad offer", true},
		{"cs bad iceServers", "POST", "/webrtc", "text/plain", `{"type":"request","iceServers":[{"urls":5}]}`, 400, "urls", true},
		{"cs too big", "POST", "/webrtc", "text/plain", big, 413, "larger than", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := do(t, c.method, hs.URL+c.path, c.ctype, c.body, nil)
			if resp.StatusCode != c.want {
				t.Fatalf("status %s, want %d; body %q", resp.Status, c.want, body)
			}
			if !strings.Contains(body, c.inBody) {
				t.Errorf("body %q does not say %q", body, c.inBody)
			}
			if c.json {
				if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type %q", ct)
				}
				var e struct{ Error string }
				if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
					t.Errorf("not a JSON error: %q (%v)", body, err)
				}
			}
		})
	}
}

func TestMaxViewers(t *testing.T) {
	_, hs := startServer(t, newIdleSource(), func(o *Options) { o.MaxViewers = 1 })
	resp, body := do(t, http.MethodPost, hs.URL+"/webrtc", "text/plain", `{"type":"request"}`, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("first request: %s %s", resp.Status, body)
	}
	var offer struct {
		Type, ID, SDP string
		ICEServers    []any `json:"iceServers"`
	}
	if err := json.Unmarshal([]byte(body), &offer); err != nil || offer.Type != "offer" || offer.ID == "" || offer.ICEServers == nil {
		t.Fatalf("offer reply %q: %v", body, err)
	}
	if !strings.Contains(body, `"iceServers":[]`) {
		t.Errorf("iceServers not an empty array: %s", body)
	}
	resp, body = do(t, http.MethodPost, hs.URL+"/webrtc", "text/plain", `{"type":"request"}`, nil)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "too many viewers") {
		t.Fatalf("second request: %s %s", resp.Status, body)
	}
	// remote_candidate before the answer is kept; an empty candidate is
	// end-of-candidates and ignored.
	resp, body = do(t, http.MethodPost, hs.URL+"/webrtc", "text/plain",
		`{"type":"remote_candidate","id":"`+offer.ID+`","candidates":[{"candidate":"","sdpMid":"0","sdpMLineIndex":0}]}`, nil)
	if resp.StatusCode != 200 || strings.TrimSpace(body) != "{}" {
		t.Fatalf("remote_candidate: %s %s", resp.Status, body)
	}
}

const audioOnlySDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\n"

const vp8OnlySDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 VP8/90000\r\n"
