// Package rtmptest runs a real RTMP server for tests: nginx with Debian's
// libnginx-mod-rtmp, on a loopback port, with its own config and prefix
// directory. It can be killed (SIGKILL, as a crash) and started again on
// the same port (internal/probe reads streams back from it).
package rtmptest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pipcam/pipcam/internal/proc"
)

// Module is where Debian's libnginx-mod-rtmp installs the module.
const Module = "/usr/lib/nginx/modules/ngx_rtmp_module.so"

// config is one nginx process (no master, no daemon: a SIGKILL is a
// crash of the whole server) serving live streams in the application
// "live".
const config = `load_module %s;
daemon off;
master_process off;
pid nginx.pid;
error_log %s info;
events {}
rtmp {
	server {
		listen 127.0.0.1:%d;
		application live {
			live on;
			record off;
		}
	}
}
`

// Server is one nginx-rtmp.
type Server struct {
	// URL is the live application: rtmp://127.0.0.1:PORT/live.
	URL    string
	Port   int
	prefix string
	log    string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited <-chan struct{}
}

// Start runs nginx-rtmp with its config and files in dir (which must
// exist) until Close. A missing nginx or module is an error naming the
// packages.
func Start(dir string) (*Server, error) {
	if _, err := exec.LookPath("nginx"); err != nil {
		return nil, errors.New("nginx not installed: run make deps (Debian packages nginx and libnginx-mod-rtmp)")
	}
	if _, err := os.Stat(Module); err != nil {
		return nil, errors.New("the nginx RTMP module is not installed: run make deps (Debian package libnginx-mod-rtmp)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &Server{Port: port, URL: fmt.Sprintf("rtmp://127.0.0.1:%d/live", port), prefix: dir}
	s.log = filepath.Join(dir, "error.log")
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, config, Module, s.log, port), 0o644); err != nil {
		return nil, err
	}
	if err := s.Restart(); err != nil {
		return nil, err
	}
	return s, nil
}

// StartT is Start for a test: in a temporary directory, closed when the
// test ends, a failure to start failing the test.
func StartT(t testing.TB) *Server {
	t.Helper()
	s, err := Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Close stops nginx.
func (s *Server) Close() { _ = s.Kill() }

// Restart starts nginx (again, after Kill) and waits until it listens.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("nginx is running")
	}
	cmd := exec.Command("nginx", "-p", s.prefix, "-c", "nginx.conf", "-e", s.log)
	var out proc.Log
	cmd.Stdout, cmd.Stderr = &out, &out
	exited, err := proc.Start(cmd)
	if err != nil {
		return fmt.Errorf("start nginx: %w", err)
	}
	s.cmd, s.exited = cmd, exited
	addr := fmt.Sprintf("127.0.0.1:%d", s.Port)
	for deadline := time.Now().Add(10 * time.Second); ; {
		select {
		case <-exited:
			s.cmd = nil
			return fmt.Errorf("nginx exited: %s\n%s", out.String(), s.Log())
		default:
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nginx not listening on %s after 10 s:\n%s", addr, s.Log())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Kill ends nginx with SIGKILL, as a crash, and waits for it to be gone.
func (s *Server) Kill() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	err := s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
	if errors.Is(err, os.ErrProcessDone) {
		err = nil
	}
	return err
}

// Log is nginx's error log (connections, publishes, plays).
func (s *Server) Log() string {
	b, err := os.ReadFile(s.log)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	return string(b)
}
