package camtest

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed testdata/rtsp_server.py
var rtspScript []byte

// python is Debian's python3, the one python3-gi belongs to (a python3
// earlier on PATH, from pyenv or a venv, has no gi).
const python = "/usr/bin/python3"

// RTSPServer is GStreamer's RTSP server in a child process, serving a
// videotestsrc pattern as H.264 at rtsp://127.0.0.1:PORT/cam.
type RTSPServer struct {
	port    int
	args    []string
	script  string
	mu      sync.Mutex
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	replies *bufio.Scanner
}

// StartRTSP starts a server on a free port showing pattern (a videotestsrc
// pattern such as "blue") at w x h and fps.
func StartRTSP(dir, pattern string, w, h, fps int) (*RTSPServer, error) {
	if _, err := os.Stat(python); err != nil {
		return nil, fmt.Errorf("%s (python3-gi, gir1.2-gst-rtsp-server-1.0) %w", python, ErrNotInstalled)
	}
	script := filepath.Join(dir, "rtsp_server.py")
	if err := os.WriteFile(script, rtspScript, 0o600); err != nil {
		return nil, err
	}
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	_, p, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(p)
	s := &RTSPServer{port: port, script: script, args: []string{pattern, strconv.Itoa(w), strconv.Itoa(h), strconv.Itoa(fps)}}
	return s, s.Start()
}

// URL is the stream's address.
func (s *RTSPServer) URL() string { return fmt.Sprintf("rtsp://127.0.0.1:%d/cam", s.port) }

// Start runs the server (again, after Stop) and waits until it listens.
func (s *RTSPServer) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var last error
	// The port was just ours: a restart may need a moment for the kernel.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if last = s.startOnce(); last == nil {
			return nil
		}
	}
	return last
}

func (s *RTSPServer) startOnce() error {
	// Niced like a camera elsewhere on the network: its encoding does not
	// take the CPU from the pipcam under test.
	cmd := exec.Command("nice", append([]string{"-n", "10", python, s.script, strconv.Itoa(s.port)}, s.args...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start RTSP server: %w", err)
	}
	replies := bufio.NewScanner(stdout)
	if line, err := readLine(replies, 20*time.Second); err != nil || line != "ready" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return fmt.Errorf("RTSP server did not start (%q, %v): %s", line, err, stderr.String())
	}
	s.cmd, s.stdin, s.replies = cmd, stdin, replies
	return nil
}

// readLine reads one line with a deadline.
func readLine(sc *bufio.Scanner, d time.Duration) (string, error) {
	got := make(chan string, 1)
	go func() {
		if sc.Scan() {
			got <- strings.TrimSpace(sc.Text())
		} else {
			got <- ""
		}
	}()
	select {
	case line := <-got:
		return line, nil
	case <-time.After(d):
		return "", fmt.Errorf("no answer within %s", d)
	}
}

// Stop ends the server process: the camera is gone.
func (s *RTSPServer) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.stdin.Close() // the script quits when its stdin closes
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

// Stall stops every stream sending (connections stay open) until Resume.
func (s *RTSPServer) Stall() error { return s.command("stall", "stalled") }

// Resume lets the streams send again.
func (s *RTSPServer) Resume() error { return s.command("resume", "resumed") }

func (s *RTSPServer) command(cmd, want string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return fmt.Errorf("RTSP server is stopped")
	}
	if _, err := fmt.Fprintln(s.stdin, cmd); err != nil {
		return err
	}
	line, err := readLine(s.replies, 10*time.Second)
	if err != nil || line != want {
		return fmt.Errorf("RTSP server answered %q to %s (%v)", line, cmd, err)
	}
	return nil
}

// Close stops the server for good.
func (s *RTSPServer) Close() { s.Stop() }
