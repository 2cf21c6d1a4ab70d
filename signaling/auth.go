package signaling

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// requireToken guards control endpoints (anything that changes state other
// than watching):
//   - a configured http.token is always required, as "Authorization:
//     Bearer <token>" (compared in constant time). It is enforced on a
//     loopback listener too: on OctoPi haproxy forwards the LAN to
//     127.0.0.1:8080, so loopback says nothing about who is asking;
//   - with no token, a loopback listener is open and any other listener
//     refuses with 403 and says to set http.token.
func (s *Server) requireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		want := s.opts.HTTP.Token.Reveal()
		if want == "" {
			if s.opts.HTTP.IsLoopback() {
				next.ServeHTTP(w, r)
				return
			}
			writeJSONError(w, http.StatusForbidden,
				"control endpoints are disabled: http.listen is beyond loopback and no http.token is set; set http.token in pipcam.yaml and send it as 'Authorization: Bearer <token>'")
			return
		}
		got, ok := bearer(r)
		if !ok || !tokenEqual(got, want) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="pipcam"`)
			writeJSONError(w, http.StatusUnauthorized, "missing or wrong bearer token")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// tokenEqual compares hashes in constant time, so neither the content nor
// the length of the token leaks through timing.
func tokenEqual(a, b string) bool {
	ha := sha256.Sum256([]byte(a))
	hb := sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}
