package signaling

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/cors"
)

// corsMaxAge lets a browser cache a preflight for an hour, so a WHEP
// trickle of PATCHes is not a trickle of preflights too.
const corsMaxAge = 3600

// newCORS builds the two CORS policies.
//   - viewing: any origin, whatever request headers the preflight asks for
//     (OctoPrint 1.11 adds Cache-Control to every non-GET request), and
//     the WHEP response headers exposed to scripts;
//   - control: only http.allowed_origins, with Authorization and
//     Content-Type. A foreign origin gets no CORS grant (and requireControl
//     refuses it when it sends the request anyway).
//
// Both leave the preflight's status to the handler after them (204).
func (s *Server) newCORS() {
	s.viewCORS = cors.New(cors.Options{
		AllowedOrigins:     []string{"*"},
		AllowedMethods:     []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPatch, http.MethodDelete, http.MethodOptions},
		AllowedHeaders:     []string{"*"},
		ExposedHeaders:     []string{"Location", "ETag", "Link", "Accept-Patch", "Accept-Post"},
		MaxAge:             corsMaxAge,
		OptionsPassthrough: true,
	})
	s.controlCORS = cors.New(cors.Options{
		AllowOriginFunc:    func(_ *http.Request, origin string) bool { return s.opts.HTTP.Allows(origin) },
		AllowedMethods:     []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
		AllowedHeaders:     []string{"Authorization", "Content-Type"},
		ExposedHeaders:     []string{"ETag"},
		MaxAge:             corsMaxAge,
		OptionsPassthrough: true,
	})
}

// preflight answers every CORS preflight with the policy of the group the
// asked-for method and path belong to (one path, /api/layout, has a
// viewing GET and a control PUT).
func (s *Server) preflight(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method := r.Header.Get("Access-Control-Request-Method")
		if _, origin := r.Header["Origin"]; r.Method != http.MethodOptions || method == "" || !origin {
			next.ServeHTTP(w, r)
			return
		}
		if !s.router.Match(chi.NewRouteContext(), method, r.URL.Path) {
			s.reject(w, r, writeTextError, http.StatusNotFound, "no such endpoint")
			return
		}
		policy := s.viewCORS
		if s.controlRoutes.Match(chi.NewRouteContext(), method, r.URL.Path) {
			policy = s.controlCORS
		}
		policy.Handler(http.HandlerFunc(s.onOptions)).ServeHTTP(w, r)
	})
}
