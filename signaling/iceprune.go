package signaling

import (
	"strings"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// A viewer whose media has settled on UDP no longer needs its ICE-TCP
// candidates, yet each keeps a connection in the shared TCPMux with two
// waiting goroutines (the candidate's read loop and the mux's close
// watcher) per local address. releaseTCP closes them through the mux.
//
// pion copes: each candidate's read loop ends with the warning it logs at
// every session close anyway (below pion's default error level), nothing
// pings other pairs once one is selected (keepalives and consent checks
// use the selected pair only), and closing the agent later closes the
// released connections again harmlessly.
//
// The UDP side is left alone: UDPMuxDefault has one connection per ufrag
// and address family, shared by all local addresses of that family, and
// closing the unused family's makes the mux forget the whole ufrag,
// including the selected pair's remote address, which it never maps again.

// localICE is what releaseTCP needs from the description we sent.
type localICE struct {
	ufrag  string
	tcpTop uint32 // highest priority among our ICE-TCP candidates
}

// parseLocalICE reads our ufrag and ICE-TCP candidates from our SDP.
func parseLocalICE(sdpText string) *localICE {
	l := &localICE{}
	for _, line := range strings.Split(sdpText, "\n") {
		line = strings.TrimRight(line, "\r")
		if v, ok := strings.CutPrefix(line, "a=ice-ufrag:"); ok {
			l.ufrag = v
		} else if v, ok := strings.CutPrefix(line, "a="); ok && strings.HasPrefix(v, "candidate:") {
			if c, err := ice.UnmarshalCandidate(v); err == nil && c.NetworkType().IsTCP() {
				l.tcpTop = max(l.tcpTop, c.Priority())
			}
		}
	}
	return l
}

// releaseTCP releases the session's ICE-TCP candidates once its selected
// pair p is UDP for good (see settledOnUDP).
func (ss *session) releaseTCP(role webrtc.ICERole, p *webrtc.ICECandidatePair) {
	l := ss.localICE.Load()
	if l == nil || l.ufrag == "" || !settledOnUDP(role, p, l.tcpTop) || !ss.tcpReleased.CompareAndSwap(false, true) {
		return
	}
	ss.srv.ice.tcp.RemoveConnByUfrag(l.ufrag)
	ss.log.Debug("released the ICE-TCP candidates: media is on UDP")
}

// settledOnUDP reports whether no TCP pair can replace the selected pair
// p. As controlling agent pion nominates one pair and keeps it (pipcam
// does not turn renomination on). As controlled agent it follows a later
// nomination only to a pair of higher priority, 2^32*min + 2*max + (0 or
// 1) of the pair's two candidate priorities (RFC 8445 6.1.2.3). Every TCP
// pair has one of our TCP candidates, so once both of p's candidates
// outrank all of those by 2, no TCP pair can win. A relayed UDP pair may
// lose to one: its viewer keeps them.
func settledOnUDP(role webrtc.ICERole, p *webrtc.ICECandidatePair, tcpTop uint32) bool {
	if p.Local.Protocol != webrtc.ICEProtocolUDP {
		return false
	}
	return role == webrtc.ICERoleControlling ||
		uint64(min(p.Local.Priority, p.Remote.Priority)) >= uint64(tcpTop)+2
}
