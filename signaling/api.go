package signaling

import (
	"fmt"
	"net"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/pipcam/pipcam/signaling/congestion"
)

// h264Codec is the one codec pipcam offers and answers: H.264 constrained
// baseline, the profile every browser and the Pi's hardware decoders accept.
// transport-cc asks the viewer for transport-wide congestion feedback,
// goog-remb for its receiver estimate (clients without transport-cc).
var h264Codec = webrtc.RTPCodecCapability{
	MimeType:    webrtc.MimeTypeH264,
	ClockRate:   90000,
	SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
	RTCPFeedback: []webrtc.RTCPFeedback{
		{Type: "nack"},
		{Type: "nack", Parameter: "pli"},
		{Type: "ccm", Parameter: "fir"},
		{Type: webrtc.TypeRTCPFBTransportCC},
		{Type: webrtc.TypeRTCPFBGoogREMB},
	},
}

// absCaptureTimeURI is the RTP header extension that carries each
// picture's capture time (browsers show it in getSynchronizationSources).
const absCaptureTimeURI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time"

// ICE timing: a viewer that vanishes without a DTLS close alert goes
// disconnected after 5 s of silence and failed 5 s later, so it is removed
// within about 10 s.
const (
	iceDisconnectedTimeout = 5 * time.Second
	iceFailedTimeout       = 5 * time.Second
	iceKeepAlive           = 2 * time.Second
)

// peerAPI makes every peer: one MediaEngine (only H.264, with the
// transport-wide CC and abs-capture-time header extensions), one
// SettingEngine, and no interceptors: the NACK answers, sender reports and
// transport-wide numbering are the viewer's RTP sender's (rtpsend.go).
type peerAPI struct {
	me    *webrtc.MediaEngine
	se    webrtc.SettingEngine
	cc    *ccSettings // nil: no congestion control
	ticks *tickHub    // every viewer's sender reports
}

// ccSettings bound each viewer's estimator (bit/s).
type ccSettings struct{ initial, min, max int }

func newPeerAPI(stunWait time.Duration, cc *ccSettings, port, tweak func(*webrtc.SettingEngine)) (*peerAPI, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: h264Codec,
		PayloadType:        102,
	}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, fmt.Errorf("register H.264: %w", err)
	}
	exts := []string{absCaptureTimeURI}
	if cc != nil {
		exts = append(exts, sdp.TransportCCURI)
	}
	for _, uri := range exts {
		if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: uri}, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, fmt.Errorf("register header extension %s: %w", uri, err)
		}
	}
	p := &peerAPI{me: me, cc: cc, ticks: newTickHub()}

	se := webrtc.SettingEngine{LoggerFactory: logging.NewDefaultLoggerFactory()}
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
	// When pipcam answers it is the DTLS server: its own ServerHello then
	// tells the socket reader what it needs to read the viewer's
	// feedback itself (feedbacktap.go). Browsers offer actpass, so they
	// take either role.
	if err := se.SetAnsweringDTLSRole(webrtc.DTLSRoleServer); err != nil {
		return nil, fmt.Errorf("DTLS role: %w", err)
	}
	// Every peer on the one ICE port (iceport.go).
	port(&se)
	if tweak != nil {
		tweak(&se)
	}
	p.se = se
	return p, nil
}

// newEstimator makes a viewer's congestion estimate; nil with congestion
// control off.
func (p *peerAPI) newEstimator() *congestion.Estimator {
	if p.cc == nil {
		return nil
	}
	return congestion.New(p.cc.initial, p.cc.min, p.cc.max)
}

// newPeerConnection creates a peer; keys (nil: none) collects its
// handshake's secrets (feedbacktap.go).
func (p *peerAPI) newPeerConnection(cfg webrtc.Configuration, keys *srtpKeys) (*webrtc.PeerConnection, error) {
	se := p.se // this peer's copy
	if keys != nil {
		se.SetDTLSKeyLogWriter(keys)
		se.SetDTLSServerHelloMessageHook(keys.serverHello)
	}
	api := webrtc.NewAPI(
		webrtc.WithMediaEngine(p.me),
		webrtc.WithInterceptorRegistry(&interceptor.Registry{}),
		webrtc.WithSettingEngine(se),
	)
	return api.NewPeerConnection(cfg)
}

// usefulCandidateIP keeps the addresses worth a host candidate.
func usefulCandidateIP(ip net.IP) bool {
	if ip.To4() != nil {
		return true
	}
	return !ip.IsLoopback() && !ip.IsLinkLocalUnicast()
}
