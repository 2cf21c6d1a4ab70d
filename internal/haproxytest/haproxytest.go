// Package haproxytest runs a real haproxy (Debian's package) with OctoPi's
// routing on a loopback port, for tests of pipcam behind OctoPi's proxy.
package haproxytest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pipcam/pipcam/internal/proc"
)

// octoPiConfig is OctoPi's rule for the webcam: /webcam/ goes to pipcam
// with the prefix stripped and no header about it; everything else goes
// to OctoPrint.
const octoPiConfig = `global
	maxconn 256
defaults
	mode http
	option http-server-close
	option forwardfor
	timeout connect 5s
	timeout client 15min
	timeout server 15min
frontend public
	bind 127.0.0.1:%d
	use_backend webcam if { path_beg /webcam/ }
	default_backend octoprint
backend octoprint
	server octoprint1 %s
backend webcam
	http-request replace-path /webcam/(.*) /\1
	server webcam1 %s
`

// Start runs haproxy in front of webcam (pipcam) and octoprint, both
// host:port, until the test ends, and returns its base URL
// (http://127.0.0.1:PORT, no trailing slash). A missing haproxy fails the
// test, naming the package.
func Start(t testing.TB, webcam, octoprint string) string {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Fatal("haproxy not installed: run make deps (Debian package haproxy)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, octoPiConfig, port, octoprint, webcam), 0o644); err != nil {
		t.Fatal(err)
	}
	var out proc.Log
	cmd := exec.Command(bin, "-db", "-f", cfg)
	cmd.Stdout, cmd.Stderr = &out, &out
	exited, err := proc.Start(cmd)
	if err != nil {
		t.Fatalf("start haproxy: %v", err)
	}
	t.Cleanup(func() { proc.Stop(cmd, exited) })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(10 * time.Second); ; {
		select {
		case <-exited:
			t.Fatalf("haproxy exited:\n%s", out.String())
		default:
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy not listening on %s after 10 s:\n%s", addr, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
