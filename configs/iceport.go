package configs

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"
)

// DefaultICEPort is the one port every WebRTC viewer's media uses, UDP and
// ICE-TCP alike (MediaMTX's default, so firewall notes carry over).
const DefaultICEPort ICEPort = 8189

// ICEPort is webrtc.ice_port: 1-65535, or 0 for a free port picked at start
// (tests that run several daemons at once).
type ICEPort int

func (p ICEPort) check() error {
	if p < 0 || p > 65535 {
		return fmt.Errorf("port %d must be 0-65535 (0: pick a free one)", int(p))
	}
	return nil
}

// AdditionalHost is an address viewers may reach pipcam's ICE port at
// besides the host's own, such as a router's public address that forwards
// the port: an IP address or a DNS name (resolved at start).
type AdditionalHost string

var hostName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,62}\.?)*$`)

func (h AdditionalHost) check() error {
	s := string(h)
	if _, err := netip.ParseAddr(s); err == nil {
		return nil
	}
	if s == "" || len(s) > 253 || !hostName.MatchString(s) {
		return fmt.Errorf("%q is not an IP address or a host name, such as 203.0.113.7 or cam.example.org (no port: the port is ice_port)", s)
	}
	return nil
}

// icePortProblems checks the ICE settings and that ICE-TCP does not take
// the HTTP or FLV server's port.
func icePortProblems(w WebRTC, h HTTP, f FLV) []*FieldError {
	var errs []*FieldError
	if err := w.ICEPort.check(); err != nil {
		errs = append(errs, &FieldError{Field: "webrtc.ice_port", Err: err})
	} else if w.ICEPort != 0 {
		for _, other := range [][2]string{{"http.listen", h.Listen}, {"flv.listen", f.Listen}} {
			if _, port, err := net.SplitHostPort(other[1]); err == nil && port == fmt.Sprint(int(w.ICEPort)) {
				errs = append(errs, fieldErrorf("webrtc.ice_port", "%d is %s's port too; ICE-TCP needs it to itself", int(w.ICEPort), other[0]))
			}
		}
	}
	for i, h := range w.AdditionalHosts {
		if err := h.check(); err != nil {
			errs = append(errs, &FieldError{Field: fmt.Sprintf("webrtc.additional_hosts[%d]", i), Err: err})
		}
	}
	return errs
}
