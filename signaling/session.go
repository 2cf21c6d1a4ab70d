package signaling

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Session protocols.
const (
	protoWHEP           = "whep"
	protoCameraStreamer = "camera-streamer"
)

// errTooManyViewers is returned by newSession when MaxViewers is reached.
var errTooManyViewers = errors.New("too many viewers")

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
	created  time.Time
	log      *slog.Logger

	pc     *webrtc.PeerConnection
	track  *webrtc.TrackLocalStaticRTP
	sender *webrtc.RTPSender

	done      chan struct{} // closed when the session is asked to end
	connected chan struct{} // closed on the first PeerConnectionStateConnected

	sigMu sync.Mutex // serialises offer/answer/candidate handling

	mu          sync.Mutex
	state       webrtc.PeerConnectionState
	closed      bool
	closeReason string
	wasConn     bool
	pending     []webrtc.ICECandidateInit // candidates that came before the remote description
	sub         *subscriber
	wg          sync.WaitGroup
}

// newSession creates and registers a session with a PeerConnection that
// has one sendonly H.264 transceiver.
func (s *Server) newSession(protocol, remote string) (*session, error) {
	id, err := newID()
	if err != nil {
		return nil, fmt.Errorf("session id: %w", err)
	}
	etag, err := newID()
	if err != nil {
		return nil, fmt.Errorf("session etag: %w", err)
	}
	ss := &session{
		srv:       s,
		id:        id,
		etag:      `"` + etag[:16] + `"`,
		protocol:  protocol,
		created:   time.Now(),
		log:       s.log.With("session", shortID(id), "protocol", protocol, "remote", remote),
		done:      make(chan struct{}),
		connected: make(chan struct{}),
		state:     webrtc.PeerConnectionStateNew,
	}

	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return nil, errors.New("server closing")
	case len(s.sessions) >= s.opts.MaxViewers:
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: %d sessions is the limit", errTooManyViewers, s.opts.MaxViewers)
	}
	s.sessions[id] = ss
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
	rtcCfg, err := ss.srv.rtcConfiguration()
	if err != nil {
		return err
	}
	pc, err := ss.srv.api.NewPeerConnection(rtcCfg)
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
			close(ss.connected)
			ss.startForwarding()
		}
	case webrtc.PeerConnectionStateFailed:
		ss.close("peer connection failed")
	case webrtc.PeerConnectionStateClosed:
		ss.close("peer connection closed")
	}
}

// startForwarding subscribes the viewer to the fan-out and asks the source
// for a keyframe so the picture starts at the next frame.
func (ss *session) startForwarding() {
	sub := ss.srv.fan.add(ss.srv.opts.QueueAUs)
	ss.mu.Lock()
	ss.sub = sub
	ss.mu.Unlock()
	if !ss.spawn(func() { ss.forward(sub) }) {
		ss.srv.fan.remove(sub)
		return
	}
	ss.srv.opts.Source.RequestKeyframe()
	ss.log.Info("viewer connected", "since_created", time.Since(ss.created).Round(time.Millisecond))
}

// forward writes the fan-out's packets to this viewer's track. The packet
// structs are shared: each is copied (header by value, payload shared)
// before WriteRTP sets this peer's SSRC and payload type on it. Sequence
// numbers are rewritten so that the AUs this viewer skipped leave no gap.
func (ss *session) forward(sub *subscriber) {
	var (
		started bool
		offset  uint16 // shared sequence - this viewer's sequence
		nextOut uint16
		lastIn  uint16
		errs    int
		// One packet struct per viewer, reused: WriteRTP retains nothing
		// (the NACK responder keeps its own copy), so no allocation per packet.
		cp rtp.Packet
	)
	for {
		select {
		case <-ss.done:
			return
		case b := <-sub.ch:
			first := b.pkts[0].SequenceNumber
			if !started || first != lastIn+1 {
				if !started {
					nextOut = first
					started = true
				}
				offset = first - nextOut
			}
			for _, p := range b.pkts {
				cp = *p
				cp.SequenceNumber = p.SequenceNumber - offset
				if err := ss.track.WriteRTP(&cp); err != nil {
					errs++
					if errs == 1 {
						ss.log.Debug("write RTP", "err", err)
					}
				}
				nextOut = cp.SequenceNumber + 1
				lastIn = p.SequenceNumber
			}
		}
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

	ss.srv.mu.Lock()
	delete(ss.srv.sessions, ss.id)
	ss.srv.mu.Unlock()
	ss.mu.Lock()
	sub := ss.sub
	reason := ss.closeReason
	ss.mu.Unlock()
	ss.srv.fan.remove(sub)
	if ss.pc != nil {
		if err := ss.pc.Close(); err != nil {
			ss.log.Debug("close peer connection", "err", err)
		}
	}
	ss.wg.Wait()
	ss.log.Info("session ended", "reason", reason, "lasted", time.Since(ss.created).Round(time.Millisecond))
}

func (ss *session) stateString() string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.state.String()
}

// answer applies a client's offer and returns the answer with all host
// candidates (gathering bounded by GatherTimeout).
func (ss *session) answer(ctx context.Context, offer string) (string, error) {
	ss.sigMu.Lock()
	defer ss.sigMu.Unlock()
	if err := ss.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: videoRecvOnly(offer)}); err != nil {
		return "", &badRequestError{fmt.Errorf("apply offer: %w", err)}
	}
	if len(ss.sender.GetParameters().Codecs) == 0 {
		return "", &badRequestError{errors.New("offer has no H.264 the server can send (needs constrained baseline, packetization-mode=1)")}
	}
	if err := ss.applyPending(); err != nil {
		ss.log.Debug("early candidates", "err", err)
	}
	ans, err := ss.pc.CreateAnswer(nil)
	if err != nil {
		return "", &badRequestError{fmt.Errorf("create answer: %w", err)}
	}
	return ss.setLocalAndGather(ctx, ans)
}

// offer creates the server's offer (camera-streamer "request").
func (ss *session) offer(ctx context.Context) (string, error) {
	ss.sigMu.Lock()
	defer ss.sigMu.Unlock()
	off, err := ss.pc.CreateOffer(nil)
	if err != nil {
		return "", fmt.Errorf("create offer: %w", err)
	}
	return ss.setLocalAndGather(ctx, off)
}

func (ss *session) setLocalAndGather(ctx context.Context, desc webrtc.SessionDescription) (string, error) {
	gathered := webrtc.GatheringCompletePromise(ss.pc)
	if err := ss.pc.SetLocalDescription(desc); err != nil {
		return "", fmt.Errorf("set local description: %w", err)
	}
	t := time.NewTimer(ss.srv.opts.GatherTimeout)
	defer t.Stop()
	select {
	case <-gathered:
	case <-t.C:
		ss.log.Warn("ICE gathering incomplete, answering with the candidates so far", "after", ss.srv.opts.GatherTimeout)
	case <-ss.done:
		return "", errors.New("session closed while gathering")
	case <-ctx.Done():
		return "", fmt.Errorf("gather candidates: %w", ctx.Err())
	}
	return ss.pc.LocalDescription().SDP, nil
}

// setAnswer applies the client's answer to the server's offer.
func (ss *session) setAnswer(sdpText string) error {
	ss.sigMu.Lock()
	defer ss.sigMu.Unlock()
	if ss.pc.RemoteDescription() != nil {
		return &badRequestError{errors.New("answer already applied")}
	}
	if err := ss.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdpText}); err != nil {
		return &badRequestError{fmt.Errorf("apply answer: %w", err)}
	}
	return ss.applyPending()
}

// addCandidates adds remote candidates, keeping them until the remote
// description is known (Mainsail may trickle before its answer arrives).
func (ss *session) addCandidates(cands []webrtc.ICECandidateInit) error {
	ss.sigMu.Lock()
	defer ss.sigMu.Unlock()
	if ss.pc.RemoteDescription() == nil {
		ss.mu.Lock()
		if len(ss.pending)+len(cands) > maxCandidates {
			ss.mu.Unlock()
			return &badRequestError{fmt.Errorf("more than %d candidates", maxCandidates)}
		}
		ss.pending = append(ss.pending, cands...)
		ss.mu.Unlock()
		return nil
	}
	for _, c := range cands {
		if err := ss.pc.AddICECandidate(c); err != nil {
			return &badRequestError{fmt.Errorf("add candidate %q: %w", c.Candidate, err)}
		}
	}
	return nil
}

func (ss *session) applyPending() error {
	ss.mu.Lock()
	p := ss.pending
	ss.pending = nil
	ss.mu.Unlock()
	var errs []error
	for _, c := range p {
		if err := ss.pc.AddICECandidate(c); err != nil {
			errs = append(errs, fmt.Errorf("add candidate %q: %w", c.Candidate, err))
		}
	}
	return errors.Join(errs...)
}

// maxCandidates bounds the remote candidates one session accepts.
const maxCandidates = 64

// badRequestError marks an error caused by what the client sent.
type badRequestError struct{ err error }

func (e *badRequestError) Error() string { return e.err.Error() }
func (e *badRequestError) Unwrap() error { return e.err }

func (s *Server) rtcConfiguration() (webrtc.Configuration, error) {
	var cfg webrtc.Configuration
	cert, err := s.certs.current()
	if err != nil {
		return cfg, err
	}
	cfg.Certificates = []webrtc.Certificate{cert}
	for _, is := range s.opts.WebRTC.ICEServers {
		srv := webrtc.ICEServer{URLs: is.URLs, Username: is.Username}
		if c := is.Credential.Reveal(); c != "" {
			srv.Credential = c
			srv.CredentialType = webrtc.ICECredentialTypePassword
		}
		cfg.ICEServers = append(cfg.ICEServers, srv)
	}
	return cfg, nil
}

func (s *Server) session(id string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[id]
}
