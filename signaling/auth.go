package signaling

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
)

// requireControl guards control endpoints (anything that changes what
// others see):
//   - a request from a web page (Origin) that is neither pipcam's own page
//     nor one of http.allowed_origins is refused, token or not: a token
//     pasted into one page must not let every page the user opens act;
//   - a configured http.token is always required, as "Authorization:
//     Bearer <token>" (compared in constant time);
//   - with no token, control is open only to this machine: a loopback
//     listener, a loopback peer and no proxy in between (on OctoPi,
//     haproxy forwards the whole LAN from 127.0.0.1).
func (s *Server) requireControl(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin, foreign := s.foreignOrigin(r); foreign {
			s.reject(w, r, writeJSONError, http.StatusForbidden,
				"control endpoints refuse requests from the web page origin "+quoteOrigin(origin)+"; add it to http.allowed_origins in pipcam.yaml if you trust it")
			return
		}
		want := s.controlToken()
		if want == "" {
			switch {
			case !s.opts.HTTP.IsLoopback():
				s.reject(w, r, writeJSONError, http.StatusForbidden,
					"control endpoints are disabled: http.listen is beyond loopback and no http.token is set; set http.token in pipcam.yaml and send it as 'Authorization: Bearer <token>'")
			case !peerIsLoopback(r) || proxied(r):
				s.reject(w, r, writeJSONError, http.StatusForbidden,
					"control endpoints without http.token are open to this machine only, and this request came through a proxy or from another host; set http.token in pipcam.yaml and send it as 'Authorization: Bearer <token>'")
			default:
				next.ServeHTTP(w, r)
			}
			return
		}
		got, ok := bearer(r)
		if !ok || !tokenEqual(got, want) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="pipcam"`)
			s.reject(w, r, writeJSONError, http.StatusUnauthorized, "missing or wrong bearer token (http.token in pipcam.yaml)")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// controlToken is the one place the control token is looked up.
func (s *Server) controlToken() string { return s.opts.HTTP.Token.Reveal() }

// foreignOrigin reports a request made by a web page that is neither
// served from this host (same Host as the request) nor allowed by
// http.allowed_origins. No Origin header: not from a page, not foreign.
func (s *Server) foreignOrigin(r *http.Request) (string, bool) {
	vals, ok := r.Header["Origin"]
	if !ok || len(vals) == 0 || vals[0] == "" {
		return "", false
	}
	origin := vals[0]
	if s.opts.HTTP.Allows(origin) {
		return origin, false
	}
	u, err := url.Parse(origin)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && strings.EqualFold(u.Host, r.Host) {
		return origin, false
	}
	return origin, true
}

// quoteOrigin shows an Origin value in a reply without letting a long or
// odd one through whole.
func quoteOrigin(o string) string {
	if len(o) > 80 {
		o = o[:80] + "..."
	}
	return strings.ToValidUTF8(`"`+o+`"`, "?")
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
