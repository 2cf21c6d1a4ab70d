package signaling

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pion/webrtc/v4"
)

// maxCandidates bounds the remote candidates one session accepts.
const maxCandidates = 64

// badRequestError marks an error caused by what the client sent.
type badRequestError struct{ err error }

func (e *badRequestError) Error() string { return e.err.Error() }
func (e *badRequestError) Unwrap() error { return e.err }

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
	if err := ss.applyEarly(); err != nil {
		ss.log.Debug("early candidates", "err", err)
	}
	ans, err := ss.pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("create answer: %w", err)
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

// setLocalAndGather applies our description and waits for gathering:
// host candidates take milliseconds; server-reflexive ones are bounded by
// the STUN wait (see newAPI), and everything by GatherTimeout.
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
	sdpText := ss.pc.LocalDescription().SDP
	ss.localICE.Store(parseLocalICE(sdpText))
	return sdpText, nil
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
	return ss.applyEarly()
}

// addCandidates adds remote candidates, keeping them until the remote
// description is known (Mainsail may trickle before its answer arrives).
func (ss *session) addCandidates(cands []webrtc.ICECandidateInit) error {
	ss.sigMu.Lock()
	defer ss.sigMu.Unlock()
	if ss.pc.RemoteDescription() == nil {
		ss.mu.Lock()
		defer ss.mu.Unlock()
		if len(ss.early)+len(cands) > maxCandidates {
			return &badRequestError{fmt.Errorf("more than %d candidates", maxCandidates)}
		}
		ss.early = append(ss.early, cands...)
		return nil
	}
	for _, c := range cands {
		if err := ss.pc.AddICECandidate(c); err != nil {
			return &badRequestError{fmt.Errorf("add candidate %q: %w", c.Candidate, err)}
		}
	}
	return nil
}

func (ss *session) applyEarly() error {
	ss.mu.Lock()
	p := ss.early
	ss.early = nil
	ss.mu.Unlock()
	var errs []error
	for _, c := range p {
		if err := ss.pc.AddICECandidate(c); err != nil {
			errs = append(errs, fmt.Errorf("add candidate %q: %w", c.Candidate, err))
		}
	}
	return errors.Join(errs...)
}
