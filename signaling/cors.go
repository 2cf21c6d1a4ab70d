package signaling

import "net/http"

// cors lets the dashboard, Mainsail/Fluidd and any WHEP player call every
// endpoint from another origin. Control endpoints are guarded by the token,
// not by the origin.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Methods", "OPTIONS, GET, POST, PUT, PATCH, DELETE")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match")
		h.Set("Access-Control-Expose-Headers", "Location, ETag, Link, Accept-Patch")
		next.ServeHTTP(w, r)
	})
}

// onPreflight answers a CORS preflight; the headers come from cors.
func (s *Server) onPreflight(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusNoContent)
}
