// Package netem puts a WebRTC viewer behind an emulated weak link, for
// tests and the benchmark: a network namespace joined to this one by a
// veth pair, a tbf rate limit towards it, random loss with nftables
// inside it, and delay by a UDP relay in the viewer's process (this
// kernel has no sch_netem). It needs root, ip (iproute2), tc and nft.
package netem

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Profile is what a link is like.
type Profile struct {
	Kbit        int           // rate into the namespace
	Queue       time.Duration // how much of it the bottleneck queues
	Delay       time.Duration // one way, towards the namespace
	LossPercent int           // random UDP loss, each way
}

// WeakWiFi is the printer's link that issue 16 describes: 300 kbit/s with
// 50 ms delay and 1 % loss, and a queue of 400 ms (a home access point's
// buffer is rarely shorter).
var WeakWiFi = Profile{Kbit: 300, Queue: 400 * time.Millisecond, Delay: 50 * time.Millisecond, LossPercent: 1}

// Apply sets the profile's rate and loss; its delay is the relay's, given
// to StartViewer.
func (l *Link) Apply(p Profile) error {
	if err := l.SetRate(p.Kbit, p.Queue); err != nil {
		return err
	}
	return l.SetLoss(p.LossPercent)
}

// Link is a namespace and the veth pair that joins it to this one.
type Link struct {
	Name   string // the namespace
	HostIP string // this side's address
	NSIP   string // the namespace's address
	hostIf string
	nsIf   string
}

// Tools the package runs, and the Debian packages that ship them.
var tools = map[string]string{"ip": "iproute2", "tc": "iproute2", "nft": "nftables"}

// Check reports the first missing tool, naming its package.
func Check() error {
	for tool, pkg := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not installed: run make deps (Debian package %s)", tool, pkg)
		}
	}
	return nil
}

// New makes namespace name, joined by a veth pair with 10.<net>.0.1 on
// this side and 10.<net>.0.2 inside, and loopback up inside. A namespace
// of that name left over from a killed run is replaced.
func New(name string, net int) (*Link, error) {
	if err := Check(); err != nil {
		return nil, err
	}
	l := &Link{
		Name:   name,
		HostIP: fmt.Sprintf("10.%d.0.1", net),
		NSIP:   fmt.Sprintf("10.%d.0.2", net),
		hostIf: "ne" + fmt.Sprint(net) + "h",
		nsIf:   "ne" + fmt.Sprint(net) + "n",
	}
	_ = run("ip", "netns", "del", name)
	_ = run("ip", "link", "del", l.hostIf)
	steps := [][]string{
		{"ip", "netns", "add", name},
		{"ip", "link", "add", l.hostIf, "type", "veth", "peer", "name", l.nsIf},
		{"ip", "link", "set", l.nsIf, "netns", name},
		{"ip", "addr", "add", l.HostIP + "/30", "dev", l.hostIf},
		{"ip", "link", "set", l.hostIf, "up"},
		{"ip", "-n", name, "addr", "add", l.NSIP + "/30", "dev", l.nsIf},
		{"ip", "-n", name, "link", "set", l.nsIf, "up"},
		{"ip", "-n", name, "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if err := run(s[0], s[1:]...); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, nil
}

// SetRate limits what flows into the namespace to kbit/s, with a queue
// that holds up to queue of it (tbf's latency); 0 lifts the limit.
func (l *Link) SetRate(kbit int, queue time.Duration) error {
	if kbit == 0 {
		return run("tc", "qdisc", "del", "dev", l.hostIf, "root")
	}
	// The bucket holds two full packets: bursts beyond that queue. The
	// peak rate, far above any test's, is there for its MTU: tbf cuts a
	// GSO message larger than that into its datagrams when it queues it,
	// so the link queues and drops packets, not a viewer's whole frame,
	// as a WiFi link does (the host's driver cuts them before the air).
	return run("tc", "qdisc", "replace", "dev", l.hostIf, "root", "tbf",
		"rate", fmt.Sprintf("%dkbit", kbit), "burst", "3000",
		"latency", fmt.Sprintf("%dms", queue.Milliseconds()),
		"peakrate", "1gbit", "mtu", "1514")
}

// SetLoss drops percent of the UDP packets on the link, each way, at
// random (0: none).
func (l *Link) SetLoss(percent int) error {
	_ = l.nft("delete", "table", "inet", "netem")
	if percent == 0 {
		return nil
	}
	rule := fmt.Sprintf("meta l4proto udp numgen random mod 100 < %d drop", percent)
	return l.nftScript("table inet netem {",
		"  chain in { type filter hook input priority 0; iifname "+l.nsIf+" "+rule+"; }",
		"  chain out { type filter hook output priority 0; oifname "+l.nsIf+" "+rule+"; }",
		"}")
}

func (l *Link) nft(args ...string) error {
	return run("ip", append([]string{"netns", "exec", l.Name, "nft"}, args...)...)
}

// Command runs a program inside the namespace.
func (l *Link) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", l.Name, name}, args...)...)
}

// Close removes the namespace (the veth pair and the rules go with it).
func (l *Link) Close() error {
	return errors.Join(run("ip", "netns", "del", l.Name), ignoreMissing(run("ip", "link", "del", l.hostIf)))
}

func ignoreMissing(err error) error {
	if err != nil && strings.Contains(err.Error(), "Cannot find device") {
		return nil
	}
	return err
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}
