package signaling

import (
	"fmt"
	"net"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/webrtc/v4"
)

// h264Codec is the one codec pipcam offers and answers: H.264 constrained
// baseline, the profile every browser and the Pi's hardware decoders accept.
var h264Codec = webrtc.RTPCodecCapability{
	MimeType:    webrtc.MimeTypeH264,
	ClockRate:   90000,
	SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
	RTCPFeedback: []webrtc.RTCPFeedback{
		{Type: "nack"},
		{Type: "nack", Parameter: "pli"},
		{Type: "ccm", Parameter: "fir"},
	},
}

// ICE timing: a viewer that vanishes without a DTLS close alert goes
// disconnected after 5 s of silence and failed 5 s later, so it is removed
// within about 10 s.
const (
	iceDisconnectedTimeout = 5 * time.Second
	iceFailedTimeout       = 5 * time.Second
	iceKeepAlive           = 2 * time.Second
	// nackHistory is how many sent packets each viewer keeps for NACK
	// retransmission (a power of two): over a second at 400 kbit/s, far
	// longer than a LAN or WiFi round trip. Each entry is a payload copy
	// per viewer, so it is most of a viewer's memory.
	nackHistory = 64
)

// newAPI builds the one webrtc.API every peer is created from: only H.264,
// NACK responder and RTCP sender/receiver reports, no audio.
func newAPI(stunWait time.Duration, tweak func(*webrtc.SettingEngine)) (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: h264Codec,
		PayloadType:        102,
	}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, fmt.Errorf("register H.264: %w", err)
	}
	reg := &interceptor.Registry{}
	responder, err := nack.NewResponderInterceptor(nack.ResponderSize(nackHistory))
	if err != nil {
		return nil, fmt.Errorf("nack responder: %w", err)
	}
	reg.Add(responder)
	if err := webrtc.ConfigureRTCPReports(reg); err != nil {
		return nil, fmt.Errorf("rtcp reports: %w", err)
	}

	se := webrtc.SettingEngine{}
	// Viewers may sit on the same host (the Pi's own browser, haproxy
	// tests, CI); loopback candidates make that work.
	se.SetIncludeLoopbackCandidate(true)
	// Every local address costs each peer a socket and a read goroutine.
	// IPv6 link-local and ::1 never help a viewer that 127.0.0.1, the LAN
	// IPv4 or a global IPv6 address would not serve as well.
	se.SetIPFilter(usefulCandidateIP)
	// No mDNS at all: resolving a browser's .local candidates would cost
	// every peer a multicast socket and read loop, and is not needed:
	// browsers connect to our real host candidates and are then known to
	// us as peer-reflexive. Our own addresses are never hidden.
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetICETimeouts(iceDisconnectedTimeout, iceFailedTimeout, iceKeepAlive)
	// When pipcam offers (camera-streamer "request") it is the controlling
	// agent and picks the pair. pion waits before accepting a pair by its
	// candidate types (host 0, srflx 0.5 s, prflx 1 s, relay 2 s). A
	// browser hides its host address behind mDNS, which we do not resolve,
	// so on a LAN it is peer-reflexive: pion's default held every such
	// viewer back a second. host, prflx and srflx pairs are all direct
	// paths and are checked in priority order, so the first that works is
	// taken at once; relay keeps pion's 2 s, so a direct path that appears
	// within them still wins over a TURN relay.
	se.SetHostAcceptanceMinWait(0)
	se.SetPrflxAcceptanceMinWait(0)
	se.SetSrflxAcceptanceMinWait(0)
	// Each STUN server (configured, or sent by a camera-streamer client)
	// gets this long to answer before the offer goes out without its
	// server-reflexive candidate.
	se.SetSTUNGatherTimeout(stunWait)
	if tweak != nil {
		tweak(&se)
	}
	return webrtc.NewAPI(
		webrtc.WithMediaEngine(me),
		webrtc.WithInterceptorRegistry(reg),
		webrtc.WithSettingEngine(se),
	), nil
}

// usefulCandidateIP keeps the addresses worth a host candidate.
func usefulCandidateIP(ip net.IP) bool {
	if ip.To4() != nil {
		return true
	}
	return !ip.IsLoopback() && !ip.IsLinkLocalUnicast()
}
