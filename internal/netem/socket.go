package netem

import (
	"fmt"
	"net"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// ListenUDP opens a UDP socket inside the namespace, on its address and a
// free port, for a test that receives there itself. The socket is made on
// a thread moved into the namespace and stays there; the thread is thrown
// away after (a goroutine that exits locked takes its thread with it).
func (l *Link) ListenUDP() (*net.UDPConn, error) {
	type result struct {
		c   *net.UDPConn
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		ns, err := os.Open("/var/run/netns/" + l.Name)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer ns.Close()
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- result{err: fmt.Errorf("enter namespace %s: %w", l.Name, err)}
			return
		}
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(l.NSIP)})
		done <- result{c, err}
	}()
	r := <-done
	return r.c, r.err
}

// SetMTU sets the host side's MTU, as a tunnel's smaller one would be.
func (l *Link) SetMTU(mtu int) error {
	return run("ip", "link", "set", l.hostIf, "mtu", fmt.Sprint(mtu))
}
