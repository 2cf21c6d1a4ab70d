package signaling

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/pipcam/pipcam/configs"
	"github.com/pipcam/pipcam/internal/viewer"
)

// Viewers in these tests take their UDP ports from this range, above the
// kernel's ephemeral ports (32768-60999) that the server's port 0 comes
// from, so the server's own sockets are the rest of this process's.
const viewerPortMin, viewerPortMax = 61000, 65000

type iceStatusDoc struct {
	ICE struct {
		Port            int      `json:"port"`
		AdditionalHosts []string `json:"additional_hosts"`
		SendCalls       uint64   `json:"send_calls"`
		SendMessages    uint64   `json:"send_messages"`
		BatchedPackets  uint64   `json:"batched_packets"`
		GSO             bool     `json:"gso"`
	} `json:"ice"`
	Sessions []struct {
		Pair     *candidatePair `json:"candidate_pair"`
		AtSocket bool           `json:"rtp_at_socket"`
	} `json:"sessions"`
}

func getICEStatus(t *testing.T, base string) iceStatusDoc {
	t.Helper()
	return getJSON[iceStatusDoc](t, base+"/api/status")
}

// udpPorts lists the local ports of this process's UDP sockets, as ss
// shows them.
func udpPorts(t *testing.T) []int {
	t.Helper()
	out, err := exec.Command("ss", "-uanp").CombinedOutput()
	if err != nil {
		t.Fatalf("ss (iproute2) failed: %v: %s", err, out)
	}
	pid := fmt.Sprintf("pid=%d,", os.Getpid())
	local := regexp.MustCompile(`:(\d+)\s+\S+:\S+\s+users:`)
	var ports []int
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.Contains(line, pid) {
			continue
		}
		if m := local.FindStringSubmatch(line); m != nil {
			p, _ := strconv.Atoi(m[1])
			ports = append(ports, p)
		}
	}
	return ports
}

func serverUDPPorts(t *testing.T) []int {
	var own []int
	for _, p := range udpPorts(t) {
		if p < viewerPortMin || p > viewerPortMax {
			own = append(own, p)
		}
	}
	return own
}

func loopbackViewer(tcpOnly bool) func(*webrtc.SettingEngine) {
	return func(se *webrtc.SettingEngine) {
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() && ip.To4() != nil })
		_ = se.SetEphemeralUDPPortRange(viewerPortMin, viewerPortMax)
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled) // no socket on 5353
		if tcpOnly {
			se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4})
		}
	}
}

// Fifty viewers share one UDP socket: ss shows the server with one UDP
// socket, on the ICE port, with one viewer and with fifty, and status
// shows every viewer's pair on that port.
func TestOnePortForEveryViewer(t *testing.T) {
	src := newReplaySource(t)
	_, hs := startServer(t, src, func(o *Options) { o.MaxViewers = 60; o.MaxPending = 60; o.MaxPendingPerClient = 60 })
	port := getICEStatus(t, hs.URL).ICE.Port
	if port == 0 {
		t.Fatal("status shows no ICE port")
	}
	if got := serverUDPPorts(t); len(got) != 1 || got[0] != port {
		t.Fatalf("server UDP sockets before viewers: ports %v, want just %d", got, port)
	}
	dialWatch(t, hs.URL, viewer.Options{SettingEngine: loopbackViewer(false)})
	if got := serverUDPPorts(t); len(got) != 1 || got[0] != port {
		t.Fatalf("server UDP sockets with one viewer: ports %v, want just %d", got, port)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 49)
	for range 49 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			v, err := viewer.DialWHEP(ctx, hs.URL, viewer.Options{SettingEngine: loopbackViewer(false), Logger: testLogger(), AUBuffer: 1})
			if err != nil {
				errs <- err
				return
			}
			t.Cleanup(func() { v.Close() })
			if err := v.WaitFirstDecodable(ctx); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := serverUDPPorts(t); len(got) != 1 || got[0] != port {
		t.Fatalf("server UDP sockets with 50 viewers: ports %v, want just %d", got, port)
	}
	// Batched sends: a second of 50 viewers' frames in a few sendmmsg
	// calls per frame, not one call per packet per viewer.
	st0 := getICEStatus(t, hs.URL)
	time.Sleep(time.Second) // a second of frames to all 50
	st := getICEStatus(t, hs.URL)
	calls, pkts := st.ICE.SendCalls-st0.ICE.SendCalls, st.ICE.BatchedPackets-st0.ICE.BatchedPackets
	msgs := st.ICE.SendMessages - st0.ICE.SendMessages
	t.Logf("in 1 s: %d packets in %d messages in %d sendmmsg calls", pkts, msgs, calls)
	if calls == 0 || pkts < 10*calls {
		t.Errorf("%d packets in %d sendmmsg calls: want at least 10 a call with 50 viewers", pkts, calls)
	}
	// GSO: a frame's packets to one viewer go as one message, so there are
	// about as many messages as frames times viewers (a few more: a
	// keyframe's parameter sets, reports).
	if st.ICE.GSO && msgs*10 > pkts*8 {
		t.Errorf("%d packets in %d messages: want GSO to carry a frame's packets to a viewer in one", pkts, msgs)
	}
	if len(st.Sessions) != 50 {
		t.Fatalf("status lists %d sessions, want 50", len(st.Sessions))
	}
	// The pair's local address is whichever host candidate pion matched:
	// they all share the one wildcard socket, so only the port is certain.
	for i, s := range st.Sessions {
		if s.Pair == nil || s.Pair.Protocol != "udp" || !strings.HasSuffix(s.Pair.Local, ":"+strconv.Itoa(port)) {
			t.Errorf("session %d: candidate pair %+v, want udp on port %d", i, s.Pair, port)
		}
		if !s.AtSocket {
			t.Errorf("session %d: its RTP goes through pion, want it encrypted at the socket (srtpsend.go)", i)
		}
	}
}

// A viewer that can only do TCP connects through ICE-TCP on the same port
// number, and status says so.
func TestICETCPOnTheSamePort(t *testing.T) {
	src := newReplaySource(t)
	_, hs := startServer(t, src, nil)
	port := getICEStatus(t, hs.URL).ICE.Port
	v := dialWatch(t, hs.URL, viewer.Options{SettingEngine: loopbackViewer(true)})
	pair, err := v.PeerConnection().SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil {
		t.Fatalf("viewer's selected pair: %v %v", pair, err)
	}
	if pair.Remote.Protocol != webrtc.ICEProtocolTCP || int(pair.Remote.Port) != port {
		t.Errorf("viewer's pair %s, want TCP to port %d", pair, port)
	}
	waitFor(t, 5*time.Second, "status pair", func() bool {
		s := getICEStatus(t, hs.URL).Sessions
		return len(s) == 1 && s[0].Pair != nil && s[0].Pair.Protocol == "tcp" && strings.HasSuffix(s[0].Pair.Local, ":"+strconv.Itoa(port))
	})
	if getICEStatus(t, hs.URL).Sessions[0].AtSocket {
		t.Error("an ICE-TCP viewer's RTP is encrypted at the UDP socket")
	}
}

// additional_hosts are advertised on the ICE port, and status lists them.
func TestAdditionalHostsAdvertised(t *testing.T) {
	_, hs := startServer(t, newIdleSource(), func(o *Options) {
		o.WebRTC.AdditionalHosts = []configs.AdditionalHost{"203.0.113.7", "localhost"}
	})
	st := getICEStatus(t, hs.URL)
	if !slices.Contains(st.ICE.AdditionalHosts, "203.0.113.7") || !slices.Contains(st.ICE.AdditionalHosts, "127.0.0.1") {
		t.Errorf("status additional hosts %v, want 203.0.113.7 and localhost's 127.0.0.1", st.ICE.AdditionalHosts)
	}
	resp, body := do(t, http.MethodPost, hs.URL+"/whep", "application/sdp", h264OfferNoCandidates(t), nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("WHEP POST: %s %s", resp.Status, body)
	}
	want := fmt.Sprintf(" 203.0.113.7 %d typ host", st.ICE.Port)
	if !strings.Contains(body, want) {
		t.Errorf("answer has no candidate %q:\n%s", want, body)
	}
}
