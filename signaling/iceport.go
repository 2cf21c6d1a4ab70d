package signaling

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"

	"github.com/pipcam/pipcam/configs"
)

// icePort is the one port every peer's ICE runs on: one UDP socket for all
// viewers (pion's UDPMux tells them apart by ICE username, then by
// address) and an ICE-TCP listener of the same number for networks that
// block UDP. One socket instead of a few per viewer is what lets pipcam sit
// behind a firewall rule or a port forward.
type icePort struct {
	port  int
	batch *batchConn // the UDP socket, sending in batches
	udp   *ice.UDPMuxDefault
	tcp   *ice.TCPMuxDefault
	// rules advertise additional_hosts as extra host candidates.
	rules []webrtc.ICEAddressRewriteRule

	closeOnce sync.Once
	closeErr  error
}

// tcpFirstSTUN bounds how long an ICE-TCP connection may stay silent
// before its first STUN request, so idle connections cannot pile up.
const tcpFirstSTUN = 10 * time.Second

// listenICE opens port (0: a free one) for UDP and TCP on every address.
func listenICE(port int, hosts []configs.AdditionalHost, lf logging.LoggerFactory, log *slog.Logger) (*icePort, error) {
	udp, tcp, err := listenBoth(port)
	if err != nil {
		return nil, err
	}
	batch, err := newBatchConn(udp)
	if err != nil {
		_ = udp.Close()
		_ = tcp.Close()
		return nil, fmt.Errorf("ICE port %d/udp: %w", port, err)
	}
	p := &icePort{port: udp.LocalAddr().(*net.UDPAddr).Port, batch: batch}
	p.udp = ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: p.batch, Logger: lf.NewLogger("udpmux")})
	p.tcp = ice.NewTCPMuxDefault(ice.TCPMuxParams{
		Listener:             tcp,
		Logger:               lf.NewLogger("tcpmux"),
		ReadBufferSize:       8,
		FirstStunBindTimeout: tcpFirstSTUN,
	})
	p.rules = rewriteRules(resolveHosts(hosts, log))
	return p, nil
}

// listenBoth opens UDP and TCP on the same port number. For port 0 the
// number UDP got may be taken for TCP: then it tries another.
func listenBoth(port int) (*net.UDPConn, net.Listener, error) {
	var errs []error
	for range 20 {
		// "udp" with no host is one dual-stack socket (IPv4 and IPv6).
		udp, err := net.ListenUDP("udp", &net.UDPAddr{Port: port})
		if err != nil {
			return nil, nil, fmt.Errorf("listen on ICE port %d/udp: %w", port, err)
		}
		got := udp.LocalAddr().(*net.UDPAddr).Port
		tcp, err := net.Listen("tcp", fmt.Sprintf(":%d", got))
		if err == nil {
			return udp, tcp, nil
		}
		_ = udp.Close()
		if port != 0 {
			return nil, nil, fmt.Errorf("listen on ICE port %d/tcp: %w", port, err)
		}
		errs = append(errs, err)
	}
	return nil, nil, fmt.Errorf("find a free ICE port for UDP and TCP: %w", errors.Join(errs...))
}

// apply makes a peer use the shared port.
func (p *icePort) apply(se *webrtc.SettingEngine) {
	se.SetICEUDPMux(filteredUDPMux{p.udp})
	se.SetICETCPMux(p.tcp)
	se.SetNetworkTypes([]webrtc.NetworkType{
		webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6,
		webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6,
	})
	if len(p.rules) > 0 {
		// Only fails when NAT1To1 is set too, which pipcam never does.
		_ = se.SetICEAddressRewriteRules(p.rules...)
	}
}

// Close closes both sockets; later calls do nothing.
func (p *icePort) Close() error {
	p.closeOnce.Do(func() { p.closeErr = errors.Join(p.udp.Close(), p.tcp.Close()) })
	return p.closeErr
}

func (p *icePort) status() iceStatus {
	sent := p.batch.stats()
	st := iceStatus{Port: p.port, AdditionalHosts: []string{}, SendCalls: sent.calls, SendMessages: sent.messages, BatchedPackets: sent.packets}
	st.GSO, st.GSOOff = p.batch.gso()
	for _, r := range p.rules {
		st.AdditionalHosts = append(st.AdditionalHosts, r.External...)
	}
	return st
}

// filteredUDPMux offers host candidates only on the addresses
// usefulCandidateIP keeps: the mux on an unspecified address lists every
// interface address, IPv6 link-local ones included.
type filteredUDPMux struct{ *ice.UDPMuxDefault }

func (m filteredUDPMux) GetListenAddresses() []net.Addr {
	all := m.UDPMuxDefault.GetListenAddresses()
	out := all[:0:0]
	for _, a := range all {
		if u, ok := a.(*net.UDPAddr); ok && usefulCandidateIP(u.IP) {
			out = append(out, a)
		}
	}
	return out
}

// resolveHosts turns additional_hosts into addresses; a name that does not
// resolve is logged and left out.
func resolveHosts(hosts []configs.AdditionalHost, log *slog.Logger) []netip.Addr {
	var out []netip.Addr
	for _, h := range hosts {
		if a, err := netip.ParseAddr(string(h)); err == nil {
			out = append(out, a.Unmap())
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", string(h))
		cancel()
		if err != nil {
			log.Warn("additional host does not resolve; not advertised", "host", string(h), "err", err)
			continue
		}
		for _, a := range addrs {
			out = append(out, a.Unmap())
		}
	}
	return out
}

// rewriteRules appends each additional address as a host candidate next
// to the host's own. Each family's addresses are tied to one local address
// (the one the default route leaves from), so the candidate appears once:
// pion closes the connection of a duplicate candidate, which would break
// that ICE-TCP host candidate.
func rewriteRules(addrs []netip.Addr) []webrtc.ICEAddressRewriteRule {
	var rules []webrtc.ICEAddressRewriteRule
	for _, family := range []struct {
		is4   bool
		probe string
	}{{true, "192.0.2.1:9"}, {false, "[2001:db8::1]:9"}} {
		var ext []string
		for _, a := range addrs {
			if a.Is4() == family.is4 {
				ext = append(ext, a.String())
			}
		}
		if len(ext) == 0 {
			continue
		}
		rule := webrtc.ICEAddressRewriteRule{
			External:        ext,
			AsCandidateType: webrtc.ICECandidateTypeHost,
			Mode:            webrtc.ICEAddressRewriteAppend,
		}
		if local, ok := routeSource(family.probe); ok {
			rule.Local = local
		}
		rules = append(rules, rule)
	}
	return rules
}

// routeSource is the local address the kernel would send to probe from
// (a UDP "connect" sends nothing).
func routeSource(probe string) (string, bool) {
	c, err := net.Dial("udp", probe)
	if err != nil {
		return "", false
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).IP.String(), true
}
