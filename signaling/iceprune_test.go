package signaling

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/pipcam/pipcam/internal/viewer"
)

// tcpWaiters counts the goroutines that wait on pion TCPMux connections:
// an ICE-TCP candidate's read loop, the mux's close watcher and the
// readers of accepted connections. Viewers here have no TCPMux, so they
// are all the server's.
func tcpWaiters() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	n := 0
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if bytes.Contains(g, []byte("ice/v4.(*tcpPacketConn)")) || bytes.Contains(g, []byte("ice/v4.(*TCPMuxDefault).createConn")) {
			n++
		}
	}
	return n
}

// viewerSTUN counts the STUN requests and responses the viewer received on
// its selected pair.
func viewerSTUN(pc *webrtc.PeerConnection) (reqs, resps uint64) {
	for _, s := range pc.GetStats() {
		if p, ok := s.(webrtc.ICECandidatePairStats); ok && p.Nominated {
			reqs, resps = reqs+p.RequestsReceived, resps+p.ResponsesReceived
		}
	}
	return reqs, resps
}

// Once a viewer is on UDP the server releases its ICE-TCP candidates, as
// controlled agent (WHEP: the viewer offers) and as controlling agent
// (camera-streamer request: pipcam offers), and STUN checks keep crossing
// the UDP pair both ways afterwards.
func TestICETCPReleasedForUDPViewer(t *testing.T) {
	const keepalive = 50 * time.Millisecond // many consent rounds in little time
	src := newReplaySource(t)
	_, hs := startServer(t, src, func(o *Options) {
		o.SettingEngine = func(se *webrtc.SettingEngine) {
			se.SetICETimeouts(iceDisconnectedTimeout, iceFailedTimeout, keepalive)
		}
	})
	for _, c := range []struct {
		name string
		dial func(context.Context, string, viewer.Options) (*viewer.Viewer, error)
	}{
		{"controlled", viewer.DialWHEP},
		{"controlling", viewer.DialCameraStreamerRequest},
	} {
		t.Run(c.name, func(t *testing.T) {
			waitFor(t, 10*time.Second, "no session left", func() bool { return len(getICEStatus(t, hs.URL).Sessions) == 0 })
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			se := func(se *webrtc.SettingEngine) {
				loopbackViewer(false)(se)
				se.SetICETimeouts(iceDisconnectedTimeout, iceFailedTimeout, keepalive)
			}
			v, err := c.dial(ctx, hs.URL, viewer.Options{SettingEngine: se, Logger: testLogger()})
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			if err := v.WaitFirstDecodable(ctx); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(v.RemoteSDP(), " tcp ") {
				t.Fatal("the server's SDP has no ICE-TCP candidate: nothing to release")
			}
			waitFor(t, 10*time.Second, "no goroutine waiting on ICE-TCP", func() bool { return tcpWaiters() == 0 })

			s := getICEStatus(t, hs.URL).Sessions
			if len(s) != 1 || s[0].Pair == nil || s[0].Pair.Protocol != "udp" {
				t.Fatalf("status sessions %+v, want one on a udp pair", s)
			}
			// The server's keepalive requests reach the viewer and the
			// server answers the viewer's own checks.
			req0, resp0 := viewerSTUN(v.PeerConnection())
			waitFor(t, 10*time.Second, "STUN checks on the UDP pair", func() bool {
				req, resp := viewerSTUN(v.PeerConnection())
				return req >= req0+3 && resp >= resp0+3
			})
			if st := v.PeerConnection().ICEConnectionState(); st != webrtc.ICEConnectionStateConnected {
				t.Errorf("viewer's ICE state %s, want connected", st)
			}
		})
	}
}

// Which selected pairs free the ICE-TCP candidates, with pion's priorities:
// our TCP host candidate is 1671430143, UDP host 2130706431, a browser's
// peer-reflexive 1853824767, a relay 16777215.
func TestSettledOnUDP(t *testing.T) {
	const tcpTop = 1671430143
	pair := func(proto webrtc.ICEProtocol, local, remote uint32) *webrtc.ICECandidatePair {
		return webrtc.NewICECandidatePair(&webrtc.ICECandidate{Protocol: proto, Priority: local}, &webrtc.ICECandidate{Protocol: proto, Priority: remote})
	}
	for _, c := range []struct {
		name string
		role webrtc.ICERole
		p    *webrtc.ICECandidatePair
		want bool
	}{
		{"controlled, host to prflx", webrtc.ICERoleControlled, pair(webrtc.ICEProtocolUDP, 2130706431, 1853824767), true},
		{"controlled, to a relay", webrtc.ICERoleControlled, pair(webrtc.ICEProtocolUDP, 2130706431, 16777215), false},
		{"controlled, just above TCP", webrtc.ICERoleControlled, pair(webrtc.ICEProtocolUDP, 2130706431, tcpTop+1), false},
		{"controlling, to a relay", webrtc.ICERoleControlling, pair(webrtc.ICEProtocolUDP, 2130706431, 16777215), true},
		{"controlling, TCP", webrtc.ICERoleControlling, pair(webrtc.ICEProtocolTCP, tcpTop, 1518280447), false},
		{"controlled, TCP", webrtc.ICERoleControlled, pair(webrtc.ICEProtocolTCP, tcpTop, 1518280447), false},
	} {
		if got := settledOnUDP(c.role, c.p, tcpTop); got != c.want {
			t.Errorf("%s: settledOnUDP %v, want %v", c.name, got, c.want)
		}
	}
	l := parseLocalICE("v=0\r\na=ice-ufrag:abcd\r\n" +
		"a=candidate:1 1 udp 2130706431 192.0.2.2 5000 typ host\r\n" +
		"a=candidate:2 1 tcp 1671430143 192.0.2.2 5000 typ host tcptype passive\r\n" +
		"a=candidate:3 1 tcp 1671429887 10.0.0.1 5000 typ host tcptype passive\r\n")
	if l.ufrag != "abcd" || l.tcpTop != tcpTop {
		t.Errorf("parseLocalICE: %+v, want ufrag abcd, tcpTop %d", *l, tcpTop)
	}
}
