package configs

import (
	"fmt"
	"regexp"
)

// iceURL is the shape of a STUN/TURN URL (RFC 7064, RFC 7065) that pipcam
// accepts: scheme:host[:port][?transport=udp|tcp], host a name, an IPv4
// address or a bracketed IPv6 address. pion's own parser recurses without
// end on some malformed hosts (stun:[0]0 overflows the stack and kills the
// process), so nothing reaches it that does not have this shape.
var iceURL = regexp.MustCompile(`^(stun|stuns|turn|turns):(\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9][A-Za-z0-9.-]{0,252})(:[0-9]{1,5})?(\?transport=(udp|tcp))?$`)

// CheckICEURL reports whether u is a STUN or TURN URL of a shape pipcam
// (and pion) can use.
func CheckICEURL(u string) error {
	if !iceURL.MatchString(u) {
		return fmt.Errorf("%q is not a STUN/TURN URL such as stun:stun.example.org:3478 or turn:[2001:db8::1]:3478?transport=tcp", u)
	}
	return nil
}
