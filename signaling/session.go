package signaling

import (
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
)

// Session protocols.
const (
	protoWHEP           = "whep"
	protoCameraStreamer = "camera-streamer"
)

// session is one viewer: a pion PeerConnection with its own track, the
// goroutines that feed it and read its RTCP, and a reaper that ends it if it
// never connects.
//
// Goroutines: run (owned by the Server, ends after teardown), the RTCP
// reader and the forwarder (owned by the session, started through spawn,
// ended by pc.Close / done, waited for in teardown).
type session struct {
	srv      *Server
	id       string
	etag     string
	protocol string
	client   string // clientAddr of the request that created it
	created  time.Time
	log      *slog.Logger
	ice      []iceServer // gathered with

	pc     *webrtc.PeerConnection
	track  *webrtc.TrackLocalStaticRTP
	sender *webrtc.RTPSender

	done      chan struct{} // closed when the session is asked to end
	connected chan struct{} // closed on the first PeerConnectionStateConnected

	sigMu sync.Mutex // serialises offer/answer/candidate handling

	pending bool // not connected yet; under srv.mu (see admission.go)

	mu          sync.Mutex
	state       webrtc.PeerConnectionState
	closed      bool
	closeReason string
	wasConn     bool
	early       []webrtc.ICECandidateInit // candidates that came before the remote description
	sub         *subscriber
	wg          sync.WaitGroup

	bw   bandwidth                     // the viewer's link, from its congestion feedback
	pair atomic.Pointer[candidatePair] // selected ICE pair (candidatepair.go)

	// The viewer's feedback read at the socket (feedbacktap.go), and its
	// packets encrypted here (srtpsend.go) with localSRTP (set with tap,
	// under tapMu, before the sender is made).
	keys      *srtpKeys
	tapMu     sync.Mutex
	tap       atomic.Pointer[feedbackTap]
	tapAddr   netip.AddrPort // under tapMu
	localSRTP *srtp.Context

	localICE    atomic.Pointer[localICE] // from the description we sent (iceprune.go)
	tcpReleased atomic.Bool

	bytesSent, packetsSent, keyRequests atomic.Uint64
	rtcpErrors                          atomic.Uint64 // RTCP packets skipped: they did not parse (rtcp.go)
	resent, resendRefused               atomic.Uint64 // NACK answers sent, and held back by congestion control
	slow                                *throttle     // "viewer is slow" lines
}

// newSession creates and registers a session with a PeerConnection that
// has one sendonly H.264 transceiver, gathering with ice.
func (s *Server) newSession(protocol, client string, ice []iceServer) (*session, error) {
	id, err := newID()
	if err != nil {
		return nil, fmt.Errorf("session id: %w", err)
	}
	etag, err := newID()
	if err != nil {
		return nil, fmt.Errorf("session etag: %w", err)
	}
	if ice == nil {
		ice = s.configuredICEServers()
	}
	ss := &session{
		srv:       s,
		id:        id,
		etag:      `"` + etag[:16] + `"`,
		protocol:  protocol,
		client:    client,
		created:   time.Now(),
		log:       s.log.With("session", shortID(id), "protocol", protocol, "client", client),
		ice:       ice,
		done:      make(chan struct{}),
		connected: make(chan struct{}),
		state:     webrtc.PeerConnectionStateNew,
		slow:      newThrottle(slowViewerLogEvery, 1),
	}

	s.mu.Lock()
	if err := s.admit(ss); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	s.wg.Add(1) // for run, below
	s.mu.Unlock()

	if err := ss.setup(); err != nil {
		ss.close("setup failed")
		go ss.run() // tears down what setup made
		return nil, err
	}
	go ss.run()
	ss.log.Info("session created")
	return ss, nil
}

func (ss *session) setup() error {
	rtcCfg, err := ss.srv.rtcConfiguration(ss.ice)
	if err != nil {
		return err
	}
	ss.bw.est = ss.srv.peers.newEstimator()
	ss.keys = &srtpKeys{}
	pc, err := ss.srv.peers.newPeerConnection(rtcCfg, ss.keys)
	if err != nil {
		return fmt.Errorf("create peer connection: %w", err)
	}
	ss.pc = pc
	track, err := webrtc.NewTrackLocalStaticRTP(h264Codec, "video", "pipcam")
	if err != nil {
		return fmt.Errorf("create video track: %w", err)
	}
	ss.track = track
	tr, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return fmt.Errorf("add video transceiver: %w", err)
	}
	ss.sender = tr.Sender()
	ss.watchPair(ss.sender.Transport().ICETransport())
	pc.OnConnectionStateChange(ss.onState)
	ss.spawn(ss.readRTCP)
	return nil
}

// spawn starts f as a goroutine of this session unless it is closing.
func (ss *session) spawn(f func()) bool {
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		return false
	}
	ss.wg.Add(1)
	ss.mu.Unlock()
	go func() {
		defer ss.wg.Done()
		f()
	}()
	return true
}

func (ss *session) onState(st webrtc.PeerConnectionState) {
	ss.mu.Lock()
	ss.state = st
	first := st == webrtc.PeerConnectionStateConnected && !ss.wasConn
	if first {
		ss.wasConn = true
	}
	ss.mu.Unlock()
	ss.log.Debug("peer connection state", "state", st.String())
	switch st {
	case webrtc.PeerConnectionStateConnected:
		if first {
			ss.srv.settle(ss)
			close(ss.connected)
			ss.updateTap()
			ss.startForwarding()
		}
	case webrtc.PeerConnectionStateFailed:
		ss.close("peer connection failed")
	case webrtc.PeerConnectionStateClosed:
		ss.close("peer connection closed")
	}
}

// close asks the session to end; run does the teardown.
func (ss *session) close(reason string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return
	}
	ss.closed = true
	ss.closeReason = reason
	close(ss.done)
}

// run waits for the end of the session (asked for, or never connected within
// ConnectTimeout) and tears it down. It is counted in Server.wg.
func (ss *session) run() {
	defer ss.srv.wg.Done()
	reap := time.NewTimer(ss.srv.opts.ConnectTimeout)
	select {
	case <-ss.done:
	case <-ss.connected:
		reap.Stop()
		<-ss.done
	case <-reap.C:
		ss.close(fmt.Sprintf("not connected after %s", ss.srv.opts.ConnectTimeout))
	}
	reap.Stop()

	ss.srv.settle(ss)
	ss.srv.mu.Lock()
	delete(ss.srv.sessions, ss.id)
	ss.srv.holdPrompt()
	ss.srv.mu.Unlock()
	ss.mu.Lock()
	sub := ss.sub
	reason := ss.closeReason
	ss.mu.Unlock()
	ss.srv.fan.remove(sub)
	ss.updateTap() // closed: the socket reader lets go of the viewer
	if ss.pc != nil {
		if err := ss.pc.Close(); err != nil {
			ss.log.Debug("close peer connection", "err", err)
		}
	}
	ss.wg.Wait()
	ss.log.Info("session ended", "reason", reason, "lasted", time.Since(ss.created).Round(time.Millisecond),
		"bytes_sent", ss.bytesSent.Load())
}

// subscriber is the session's fan-out queue (nil until it connects).
func (ss *session) subscriber() *subscriber {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.sub
}

func (s *Server) session(id string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[id]
}
