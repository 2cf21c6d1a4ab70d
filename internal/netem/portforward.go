package netem

import (
	"bytes"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// ViewerOptions shape a viewer started in the namespace.
type ViewerOptions struct {
	Delay time.Duration // one way, towards the viewer, by a relay
	// Direct: no relay; the viewer uses the namespace's address and the
	// server's candidates as offered (ports forwarded, UDP blocked...).
	Direct bool
	// TCPOnly: the viewer offers and tries ICE-TCP only.
	TCPOnly bool
}

// directViewer gathers on the namespace's own address only, without mDNS.
func directViewer(job viewerJob) func(*webrtc.SettingEngine) {
	return func(se *webrtc.SettingEngine) {
		se.SetIPFilter(func(ip net.IP) bool { return ip.String() == job.ListenIP })
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
		if job.TCPOnly {
			se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4})
		}
	}
}

// BlockUDP drops every UDP packet the namespace sends, as a network that
// lets only TCP out does.
func (l *Link) BlockUDP() error {
	return l.nftScript("table inet netemudp {",
		"  chain out { type filter hook output priority 0; meta l4proto udp drop; }",
		"}")
}

// ForwardPort makes public:port (UDP and TCP), as seen from inside the
// namespace, a port forward to this side's port: a route to public over
// the link and a DNAT to HostIP. Reaching HostIP:port directly is blocked,
// so the forward is the only way to it.
func (l *Link) ForwardPort(public string, port int) error {
	if err := l.ipNS("route", "replace", public+"/32", "via", l.HostIP); err != nil {
		return err
	}
	p := fmt.Sprint(port)
	return l.nftScript("table ip netemfwd {",
		// Before NAT: only packets not yet translated are checked here.
		"  chain nodirect { type filter hook output priority -200; ip daddr "+l.HostIP+" udp dport "+p+" drop; ip daddr "+l.HostIP+" tcp dport "+p+" drop; }",
		"  chain portfwd { type nat hook output priority -100; ip daddr "+public+" udp dport "+p+" dnat to "+l.HostIP+":"+p+"; ip daddr "+public+" tcp dport "+p+" dnat to "+l.HostIP+":"+p+"; }",
		"}")
}

func (l *Link) ipNS(args ...string) error {
	return run("ip", append([]string{"-n", l.Name}, args...)...)
}

// nftScript loads an nftables script inside the namespace.
func (l *Link) nftScript(lines ...string) error {
	cmd := exec.Command("ip", "netns", "exec", l.Name, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("nft in %s: %w: %s", l.Name, err, bytes.TrimSpace(out))
	}
	return nil
}
