package signaling

import (
	"net"
	"strconv"

	"github.com/pion/webrtc/v4"
)

// candidatePair is the path a viewer's media takes, as /api/status shows
// it: which of pipcam's candidates (on the ICE port, or an additional
// host) and which of the viewer's.
type candidatePair struct {
	Protocol   string `json:"protocol"` // udp or tcp
	Local      string `json:"local"`    // host:port
	LocalType  string `json:"local_type"`
	Remote     string `json:"remote"`
	RemoteType string `json:"remote_type"`
}

// watchPair keeps the session's selected pair up to date, and releases
// the ICE-TCP candidates when it is UDP for good.
func (ss *session) watchPair(t *webrtc.ICETransport) {
	t.OnSelectedCandidatePairChange(func(p *webrtc.ICECandidatePair) {
		if p == nil || p.Local == nil || p.Remote == nil {
			return
		}
		ss.pair.Store(&candidatePair{
			Protocol:   p.Local.Protocol.String(),
			Local:      net.JoinHostPort(p.Local.Address, strconv.Itoa(int(p.Local.Port))),
			LocalType:  p.Local.Typ.String(),
			Remote:     net.JoinHostPort(p.Remote.Address, strconv.Itoa(int(p.Remote.Port))),
			RemoteType: p.Remote.Typ.String(),
		})
		ss.releaseTCP(t.Role(), p)
		ss.updateTap()
	})
}

// onTCP reports whether the viewer's media flows over ICE-TCP.
func (ss *session) onTCP() bool {
	p := ss.pair.Load()
	return p != nil && p.Protocol == "tcp"
}
