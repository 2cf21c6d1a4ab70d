package signaling

import (
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
// Location and ETag. Location is relative ("whep/{id}"): resolved against
// the POST URL it lands behind any proxy prefix (OctoPi's /webcam/, a
// MediaMTX-style /cam/) with no header from the proxy.
func (s *Server) onWHEPPost(w http.ResponseWriter, r *http.Request) {
	if !hasMediaType(r, "application/sdp") {
		s.reject(w, r, writeTextError, http.StatusUnsupportedMediaType, "Content-Type must be application/sdp")
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		s.rejectBody(w, r, writeTextError, err)
		return
	}
	ss, answer := s.answerOffer(w, r, protoWHEP, string(body), writeTextError)
	if ss == nil {
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/sdp")
	h.Set("Location", "whep/"+ss.id)
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
		s.reject(w, r, writeTextError, http.StatusNotFound, "no such session")
		return
	}
	if !hasMediaType(r, "application/trickle-ice-sdpfrag") {
		s.reject(w, r, writeTextError, http.StatusUnsupportedMediaType, "Content-Type must be application/trickle-ice-sdpfrag")
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		s.rejectBody(w, r, writeTextError, err)
		return
	}
	frag, err := parseTrickleFrag(string(body))
	if err != nil {
		s.reject(w, r, writeTextError, http.StatusBadRequest, "bad sdpfrag: "+err.Error())
		return
	}
	if err := ss.addCandidates(frag.Candidates); err != nil {
		s.reject(w, r, writeTextError, http.StatusBadRequest, err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// onWHEPDelete ends a session.
func (s *Server) onWHEPDelete(w http.ResponseWriter, r *http.Request) {
	ss := s.session(chi.URLParam(r, "id"))
	if ss == nil {
		s.reject(w, r, writeTextError, http.StatusNotFound, "no such session")
		return
	}
	ss.close("deleted by client")
	w.WriteHeader(http.StatusOK)
}
