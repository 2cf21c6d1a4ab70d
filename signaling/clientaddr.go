package signaling

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// peerAddr is the TCP peer's address without the port.
func peerAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func peerIsLoopback(r *http.Request) bool { return peerAddr(r).IsLoopback() }

// proxied reports a request that a proxy forwarded: on OctoPi every LAN
// client reaches pipcam from 127.0.0.1 through haproxy.
func proxied(r *http.Request) bool {
	for _, h := range []string{"X-Forwarded-For", "Forwarded", "X-Real-Ip"} {
		if _, ok := r.Header[h]; ok {
			return true
		}
	}
	return false
}

// clientAddr is who is asking, for limits and logs: the TCP peer, or —
// only when the peer is loopback, i.e. a local proxy such as OctoPi's
// haproxy — the last X-Forwarded-For entry, the one that proxy added.
// Anything else in X-Forwarded-For is the client's own claim.
func clientAddr(r *http.Request) string {
	peer := peerAddr(r)
	if peer.IsLoopback() {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if a, err := netip.ParseAddr(strings.TrimSpace(last)); err == nil {
				return a.Unmap().String()
			}
		}
	}
	if !peer.IsValid() {
		return r.RemoteAddr
	}
	return peer.String()
}
