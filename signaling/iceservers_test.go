package signaling

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/stun/v4"

	"github.com/pipcam/pipcam/configs"
)

// stunServer answers STUN binding requests on loopback with the sender's
// address, like a public STUN server would (here the mapping is 1:1).
func stunServer(t *testing.T) (url string, asked *atomic.Int64) {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	asked = new(atomic.Int64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			req := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
			if req.Decode() != nil || req.Type != stun.BindingRequest {
				continue
			}
			asked.Add(1)
			ua := from.(*net.UDPAddr)
			resp, err := stun.Build(stun.NewTransactionIDSetter(req.TransactionID), stun.BindingSuccess,
				&stun.XORMappedAddress{IP: ua.IP, Port: ua.Port}, stun.Fingerprint)
			if err == nil {
				_, _ = pc.WriteTo(resp.Raw, from)
			}
		}
	}()
	t.Cleanup(func() {
		pc.Close()
		<-done
	})
	return "stun:" + pc.LocalAddr().String(), asked
}

type offerReply struct {
	Type, ID, SDP string
	ICEServers    []struct {
		URLs       []string `json:"urls"`
		Username   string   `json:"username"`
		Credential string   `json:"credential"`
	} `json:"iceServers"`
}

func csRequest(t *testing.T, base, body string) (offerReply, time.Duration) {
	t.Helper()
	start := time.Now()
	resp, b := do(t, http.MethodPost, base+"/webrtc", "text/plain;charset=UTF-8", body, nil)
	took := time.Since(start)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("request %s: %s %s", body, resp.Status, b)
	}
	var r offerReply
	if err := json.Unmarshal([]byte(b), &r); err != nil || r.Type != "offer" || r.ICEServers == nil {
		t.Fatalf("offer reply %s: %v", b, err)
	}
	return r, took
}

// TestClientICEServers: the server gathers with the STUN server a client
// sends (its offer has a server-reflexive candidate from it), and lists
// configured + client servers in the reply; the option turns that off.
func TestClientICEServers(t *testing.T) {
	stunURL, asked := stunServer(t)
	configured := configs.ICEServer{URLs: []string{"turn:turn.invalid:3478"}, Username: "pi", Credential: "secret"}
	_, hs := startServer(t, newIdleSource(), func(o *Options) {
		o.WebRTC = configs.WebRTC{ICEServers: []configs.ICEServer{configured}}
	})
	r, _ := csRequest(t, hs.URL, `{"type":"request","iceServers":[{"urls":["`+stunURL+`"]}],"keepAlive":true}`)
	if !strings.Contains(r.SDP, "typ srflx") || asked.Load() == 0 {
		t.Errorf("no server-reflexive candidate from the client's STUN server (asked %d times):\n%s", asked.Load(), r.SDP)
	}
	if len(r.ICEServers) != 2 || r.ICEServers[0].URLs[0] != configured.URLs[0] || r.ICEServers[0].Credential != "secret" ||
		r.ICEServers[1].URLs[0] != stunURL {
		t.Errorf("reply iceServers %+v, want the configured TURN then the client's STUN", r.ICEServers)
	}
	// Mainsail sends null when it has no STUN server of its own.
	if r, _ := csRequest(t, hs.URL, `{"type":"request","iceServers":null}`); len(r.ICEServers) != 1 {
		t.Errorf("iceServers null: reply %+v", r.ICEServers)
	}

	_, hs2 := startServer(t, newIdleSource(), func(o *Options) { o.WebRTC.IgnoreClientICEServers = true })
	before := asked.Load()
	r, _ = csRequest(t, hs2.URL, `{"type":"request","iceServers":[{"urls":"`+stunURL+`"}]}`)
	if strings.Contains(r.SDP, "typ srflx") || asked.Load() != before || len(r.ICEServers) != 0 {
		t.Errorf("ignore_client_ice_servers: srflx %v, STUN asked %d more times, reply %+v",
			strings.Contains(r.SDP, "typ srflx"), asked.Load()-before, r.ICEServers)
	}
}

func TestClientICEServersValidated(t *testing.T) {
	_, hs := startServer(t, newIdleSource(), nil)
	for body, want := range map[string]string{
		`{"type":"request","iceServers":[{"urls":["http://x.example"]}]}`:                                                               "not a STUN/TURN URL",
		`{"type":"request","iceServers":[{"urls":["stun:[0]0"]}]}`:                                                                      "not a STUN/TURN URL", // pion\'s parser never returns on it
		`{"type":"request","iceServers":[{"urls":["turn:t.example"]}]}`:                                                                 "username and credential",
		`{"type":"request","iceServers":[{"urls":[]}]}`:                                                                                 "no urls",
		`{"type":"request","iceServers":[{"urls":["stun:` + strings.Repeat("a", 300) + `"]}]}`:                                          "longer than",
		`{"type":"request","iceServers":[{"urls":"stun:a"},{"urls":"stun:b"},{"urls":"stun:c"},{"urls":"stun:d"},{"urls":"stun:e"}]}`:   "at most 4 servers",
		`{"type":"request","iceServers":[{"urls":["stun:a","stun:b","stun:c","stun:d","stun:e","stun:f","stun:g","stun:h","stun:i"]}]}`: "at most 8 URLs",
	} {
		resp, got := do(t, http.MethodPost, hs.URL+"/webrtc", "text/plain", body, nil)
		if resp.StatusCode != 400 || !strings.Contains(got, want) {
			t.Errorf("%.60s: %s %s, want 400 saying %q", body, resp.Status, got, want)
		}
	}
}

// TestUnreachableSTUNCost measures what a STUN server that never answers
// (a printer without internet, given Mainsail's Google STUN) adds to the
// offer: STUNWait, not the gather timeout.
func TestUnreachableSTUNCost(t *testing.T) {
	hole, _ := blackHoleSTUN(t)
	_, hs := startServer(t, newIdleSource(), nil)
	var plain, holed time.Duration
	const runs = 5
	for i := 0; i < runs; i++ {
		_, d := csRequest(t, hs.URL, `{"type":"request"}`)
		plain += d
		_, d = csRequest(t, hs.URL, `{"type":"request","iceServers":[{"urls":["`+hole+`"]}]}`)
		holed += d
	}
	plain, holed = plain/runs, holed/runs
	t.Logf("offer: %s without STUN, %s with an unreachable STUN server (STUNWait %s, GatherTimeout %s)",
		plain.Round(time.Millisecond), holed.Round(time.Millisecond), defaultSTUNWait, defaultGatherTimeout)
	if holed > defaultGatherTimeout/2 {
		t.Errorf("an unreachable STUN server held the offer %s", holed)
	}
}
