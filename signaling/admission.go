package signaling

import (
	"errors"
	"fmt"
	"net/http"
)

// Admission: a session is pending from its creation until it first
// connects. Pending sessions have a cap of their own, below MaxViewers, so
// that clients that never connect cannot take every place, and a cap per
// client address, so that one client cannot take all the pending places.
// A pending session is reaped after ConnectTimeout.

// limitError is a refusal because of a limit; it carries its reply.
type limitError struct {
	status int
	msg    string
}

func (e *limitError) Error() string { return e.msg }

var errServerClosing = errors.New("server closing")

// admit registers ss as a pending session of its client, or says which
// limit refuses it. Called with s.mu held.
func (s *Server) admit(ss *session) error {
	o := &s.opts
	switch {
	case s.closed:
		return errServerClosing
	case len(s.sessions) >= o.MaxViewers:
		return &limitError{http.StatusServiceUnavailable, fmt.Sprintf("too many viewers: %d sessions is the limit", o.MaxViewers)}
	case s.pending >= o.MaxPending:
		return &limitError{http.StatusServiceUnavailable, fmt.Sprintf("too many viewers connecting at once (%d); try again shortly", o.MaxPending)}
	case s.pendingBy[ss.client] >= o.MaxPendingPerClient:
		return &limitError{http.StatusTooManyRequests, fmt.Sprintf("%d sessions from %s have not connected yet; connect or wait for them to expire (%s)", o.MaxPendingPerClient, ss.client, o.ConnectTimeout)}
	}
	s.sessions[ss.id] = ss
	s.holdPrompt()
	s.pending++
	s.pendingBy[ss.client]++
	ss.pending = true
	return nil
}

// settle ends ss's pending state: it connected, or it ended.
func (s *Server) settle(ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ss.pending {
		return
	}
	ss.pending = false
	s.pending--
	if s.pendingBy[ss.client]--; s.pendingBy[ss.client] <= 0 {
		delete(s.pendingBy, ss.client)
	}
}

// startSession creates a session for the request's client, or replies why
// not (and returns nil).
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, protocol string, ice []iceServer, format errorFormat) *session {
	ss, err := s.newSession(protocol, clientAddr(r), ice)
	if err == nil {
		return ss
	}
	var le *limitError
	switch {
	case errors.As(err, &le):
		w.Header().Set("Retry-After", "5")
		s.reject(w, r, format, le.status, le.msg)
	case errors.Is(err, errServerClosing):
		s.reject(w, r, format, http.StatusServiceUnavailable, "server is shutting down")
	default:
		s.fail(w, r, format, "create session", err)
	}
	return nil
}

// answerOffer is the one path for a client's offer, WHEP or
// camera-streamer: check it, create a session, answer. When it returns nil
// it has replied (4xx, 503 or 500).
func (s *Server) answerOffer(w http.ResponseWriter, r *http.Request, protocol, offer string, format errorFormat) (*session, string) {
	if err := checkOffer(offer); err != nil {
		s.reject(w, r, format, http.StatusBadRequest, "bad offer: "+err.Error())
		return nil, ""
	}
	ss := s.startSession(w, r, protocol, nil, format)
	if ss == nil {
		return nil, ""
	}
	answer, err := ss.answer(r.Context(), offer)
	if err != nil {
		ss.close("offer failed")
		var bre *badRequestError
		if errors.As(err, &bre) {
			s.reject(w, r, format, http.StatusBadRequest, "bad offer: "+err.Error())
			return nil, ""
		}
		s.fail(w, r, format, "answer "+protocol+" offer", err)
		return nil, ""
	}
	return ss, answer
}

// holdPrompt keeps the source prompt while there are sessions: a viewer on
// its way then finds the pictures coming as they are made, and the backlog
// an idle source keeps is drained before the viewer takes its first
// keyframe. Called with s.mu held, after sessions changed.
func (s *Server) holdPrompt() {
	switch {
	case len(s.sessions) > 0 && s.unprompt == nil:
		s.unprompt = s.opts.Source.Prompt()
	case len(s.sessions) == 0 && s.unprompt != nil:
		s.unprompt()
		s.unprompt = nil
	}
}
