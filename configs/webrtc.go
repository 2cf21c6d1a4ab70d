package configs

import (
	"fmt"
	"strings"
)

// DefaultMaxViewers is webrtc.max_viewers unless set; MaxMaxViewers
// bounds it (each viewer is a peer with sockets and goroutines of its own).
const (
	DefaultMaxViewers = 100
	MaxMaxViewers     = 2000
)

func (w WebRTC) problems() []*FieldError {
	var errs []*FieldError
	if w.MaxViewers < 1 || w.MaxViewers > MaxMaxViewers {
		errs = append(errs, fieldErrorf("max_viewers", "%d is not between 1 and %d", w.MaxViewers, MaxMaxViewers))
	}
	for i, s := range w.ICEServers {
		errs = append(errs, prefixed(fmt.Sprintf("ice_servers[%d]", i), s.problems())...)
	}
	return errs
}

func (s ICEServer) problems() []*FieldError {
	var errs []*FieldError
	if len(s.URLs) == 0 {
		errs = append(errs, fieldErrorf("urls", "need at least one URL, such as stun:stun.l.google.com:19302"))
	}
	turn := false
	for i, u := range s.URLs {
		scheme, rest, _ := strings.Cut(u, ":")
		switch scheme {
		case "turn", "turns":
			turn = true
		case "stun", "stuns":
		default:
			errs = append(errs, fieldErrorf(fmt.Sprintf("urls[%d]", i), "%q must start with stun:, stuns:, turn: or turns:", u))
			continue
		}
		if rest == "" {
			errs = append(errs, fieldErrorf(fmt.Sprintf("urls[%d]", i), "%q names no server", u))
		} else if err := CheckICEURL(u); err != nil {
			errs = append(errs, &FieldError{Field: fmt.Sprintf("urls[%d]", i), Err: err})
		}
	}
	if turn && s.Username == "" {
		errs = append(errs, fieldErrorf("username", "required for a TURN server"))
	}
	if turn && s.Credential == "" {
		errs = append(errs, fieldErrorf("credential", "required for a TURN server"))
	}
	return errs
}
