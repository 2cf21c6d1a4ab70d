package signaling

import (
	"net/http"
	"regexp"

	"github.com/go-chi/chi/v5"
)

// routes puts every endpoint in one of two groups, each with its own CORS
// policy: viewing (any origin) and control (configured origins, and the
// token or loopback rule of requireControl). A new endpoint is one line in
// viewing or control.
func (s *Server) routes() chi.Router {
	s.controlRoutes = chi.NewRouter()
	s.control(s.controlRoutes) // only matched against, to pick a preflight's policy

	r := chi.NewRouter()
	r.Use(s.preflight)
	r.Group(func(r chi.Router) {
		r.Use(s.viewCORS.Handler)
		s.viewing(r)
	})
	r.Group(func(r chi.Router) {
		r.Use(s.controlCORS.Handler, s.requireControl)
		s.control(r)
	})
	return r
}

// viewing: everything a player needs. Any web page may call these.
func (s *Server) viewing(r chi.Router) {
	s.whep(r, "")
	// MediaMTX-style stream URLs (http://pi:8080/cam/ + whep): one stream,
	// whatever the name.
	r.Group(func(r chi.Router) {
		r.Use(s.streamName)
		s.whep(r, "/{name}")
	})
	r.Options("/webrtc", s.onOptions)
	r.Post("/webrtc", s.onCameraStreamer)
	r.Get("/api/status", s.onStatus)
	r.Get("/api/layout", s.layout.onGet(s))
	r.Get("/api/overlay", s.overlayStyle.onGet(s))
	s.mediaRoutes(r)
	s.outputViewing(r)
}

// control: everything that changes what others see.
func (s *Server) control(r chi.Router) {
	r.Put("/api/layout", s.layout.onPut(s))
	r.Put("/api/overlay", s.overlayStyle.onPut(s))
	s.outputControl(r)
}

func (s *Server) whep(r chi.Router, prefix string) {
	r.Options(prefix+"/whep", s.onWHEPOptions)
	r.Post(prefix+"/whep", s.onWHEPPost)
	r.Options(prefix+"/whep/{id}", s.onOptions)
	r.Patch(prefix+"/whep/{id}", s.onWHEPPatch)
	r.Delete(prefix+"/whep/{id}", s.onWHEPDelete)
}

var streamNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// streamName refuses stream names that are not short and plain.
func (s *Server) streamName(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !streamNameRE.MatchString(chi.URLParam(r, "name")) {
			s.reject(w, r, writeTextError, http.StatusBadRequest, "stream name must be 1-64 of A-Z, a-z, 0-9, _ and -")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// onOptions answers a plain OPTIONS (not a CORS preflight) with 204.
func (s *Server) onOptions(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusNoContent)
}
