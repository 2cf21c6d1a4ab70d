package signaling

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
)

// WHEP (draft-ietf-wish-whep) as MediaMTX serves it, because Mainsail and
// Fluidd's "WebRTC (MediaMTX)" mode is written against MediaMTX.

// onWHEPOptions answers 204 with one Link header per ICE server URL (not on
// CORS preflights, as MediaMTX does). Mainsail restarts forever on anything
// but 204.
func (s *Server) onWHEPOptions(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Accept-Post", "application/sdp")
	if r.Header.Get("Access-Control-Request-Method") == "" {
		s.addLinkHeaders(w.Header())
	}
	w.WriteHeader(http.StatusNoContent)
}

// addLinkHeaders writes the configured ICE servers as WHEP Link headers.
// Credentials go to the client (it needs them for TURN), never to logs.
func (s *Server) addLinkHeaders(h http.Header) {
	for _, is := range s.opts.WebRTC.ICEServers {
		for _, u := range is.URLs {
			v := "<" + u + `>; rel="ice-server"`
			if is.Username != "" || is.Credential.Reveal() != "" {
				v += fmt.Sprintf(`; username="%s"; credential="%s"; credential-type="password"`,
					quoteEscape(is.Username), quoteEscape(is.Credential.Reveal()))
			}
			h.Add("Link", v)
		}
	}
}

func quoteEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// onWHEPPost takes an application/sdp offer and answers 201 with the answer,
// Location and ETag.
func (s *Server) onWHEPPost(w http.ResponseWriter, r *http.Request) {
	if !hasMediaType(r, "application/sdp") {
		writeTextError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/sdp")
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		s.writeBodyError(w, err, writeTextError)
		return
	}
	if err := checkOffer(string(body)); err != nil {
		writeTextError(w, http.StatusBadRequest, "bad offer: "+err.Error())
		return
	}
	ss, err := s.newSession(protoWHEP, r.RemoteAddr)
	if err != nil {
		s.writeSessionError(w, err, writeTextError)
		return
	}
	answer, err := ss.answer(r.Context(), string(body))
	if err != nil {
		ss.close("offer failed: " + err.Error())
		var bre *badRequestError
		if errors.As(err, &bre) {
			writeTextError(w, http.StatusBadRequest, "bad offer: "+err.Error())
			return
		}
		ss.log.Error("answer WHEP offer", "err", err)
		writeTextError(w, http.StatusInternalServerError, "cannot answer: "+err.Error())
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/sdp")
	h.Set("Location", forwardedPrefix(r)+"/whep/"+ss.id)
	h.Set("ETag", ss.etag)
	h.Set("Accept-Patch", "application/trickle-ice-sdpfrag")
	s.addLinkHeaders(h)
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, answer)
}

// onWHEPPatch adds trickled candidates from an application/trickle-ice-sdpfrag.
func (s *Server) onWHEPPatch(w http.ResponseWriter, r *http.Request) {
	ss := s.session(chi.URLParam(r, "id"))
	if ss == nil {
		writeTextError(w, http.StatusNotFound, "no such session")
		return
	}
	if !hasMediaType(r, "application/trickle-ice-sdpfrag") {
		writeTextError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/trickle-ice-sdpfrag")
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		s.writeBodyError(w, err, writeTextError)
		return
	}
	frag, err := parseTrickleFrag(string(body))
	if err != nil {
		writeTextError(w, http.StatusBadRequest, "bad sdpfrag: "+err.Error())
		return
	}
	if err := ss.addCandidates(frag.Candidates); err != nil {
		writeTextError(w, http.StatusBadRequest, err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// onWHEPDelete ends a session.
func (s *Server) onWHEPDelete(w http.ResponseWriter, r *http.Request) {
	ss := s.session(chi.URLParam(r, "id"))
	if ss == nil {
		writeTextError(w, http.StatusNotFound, "no such session")
		return
	}
	ss.close("deleted by client")
	w.WriteHeader(http.StatusOK)
}

func (s *Server) writeBodyError(w http.ResponseWriter, err error, write func(http.ResponseWriter, int, string)) {
	if errors.Is(err, errBodyTooLarge) {
		write(w, http.StatusRequestEntityTooLarge, err.Error())
		return
	}
	write(w, http.StatusBadRequest, err.Error())
}

func (s *Server) writeSessionError(w http.ResponseWriter, err error, write func(http.ResponseWriter, int, string)) {
	if errors.Is(err, errTooManyViewers) {
		w.Header().Set("Retry-After", "5")
		write(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	s.log.Error("create session", "err", err)
	write(w, http.StatusServiceUnavailable, "cannot create session: "+err.Error())
}
