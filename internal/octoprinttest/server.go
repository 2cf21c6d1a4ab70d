// Package octoprinttest runs a real OctoPrint 1.11 (from PyPI, in the venv
// that scripts/octoprint.sh makes and caches) for tests and the demo: on a
// free loopback port, with a throwaway base dir, the first-run wizard off,
// one admin user with a known API key and password, and the bundled
// Virtual Printer enabled. Helpers connect the virtual printer, upload
// G-code, start, pause, resume and cancel prints, and kill and restart the
// server.
package octoprinttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// Options change how Start runs OctoPrint; the zero value is the usual.
type Options struct {
	// BaseDir is OctoPrint's --basedir; "" makes a temporary one that
	// Close removes.
	BaseDir string
	// Autoconnect connects the virtual printer when the server starts.
	Autoconnect bool
	// Plugins are OctoPrint plugins' Python projects (directories with a
	// pyproject.toml) installed before the server starts (InstallPlugin).
	Plugins []string
	// Settings are merged into config.yaml over the harness's own, e.g.
	// {"webcam": {"ffmpeg": "/usr/bin/ffmpeg"}}.
	Settings map[string]any
	// DebugLoggers are OctoPrint's loggers (e.g. "octoprint.timelapse")
	// that log at DEBUG level to the console log (LogTail).
	DebugLoggers []string
}

// Server is one running OctoPrint.
type Server struct {
	URL      string // http://127.0.0.1:PORT, no trailing slash
	APIKey   string // the admin user's API key
	User     string
	Password string
	BaseDir  string

	bin     string
	port    int
	tempDir bool
	cmd     *exec.Cmd
	exited  chan struct{}
	client  *http.Client
}

// Start installs OctoPrint if it is not yet (scripts/octoprint.sh, a
// minute or two once), writes a fresh base dir and starts the server,
// returning once it answers. ctx bounds the start-up only.
func Start(ctx context.Context, opt Options) (*Server, error) {
	bin, err := Install(ctx)
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, BaseDir: opt.BaseDir, client: &http.Client{Timeout: 10 * time.Second}}
	if s.BaseDir == "" {
		if s.BaseDir, err = os.MkdirTemp("", "octoprint-"); err != nil {
			return nil, fmt.Errorf("octoprint base dir: %w", err)
		}
		s.tempDir = true
	}
	if s.port, err = freePort(); err != nil {
		s.cleanup()
		return nil, err
	}
	s.URL = "http://127.0.0.1:" + strconv.Itoa(s.port)
	if err := s.writeBaseDir(opt); err != nil {
		s.cleanup()
		return nil, err
	}
	for _, dir := range opt.Plugins {
		if err := s.InstallPlugin(ctx, dir); err != nil {
			s.cleanup()
			return nil, err
		}
	}
	if err := s.start(ctx); err != nil {
		s.cleanup()
		return nil, err
	}
	return s, nil
}

// Install runs scripts/octoprint.sh and returns the octoprint command. A
// missing python3 or venv module is an error naming the Debian package.
func Install(ctx context.Context) (string, error) {
	script, err := findScript()
	if err != nil {
		return "", err
	}
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, script)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("install OctoPrint with %s: %w: %s", script, err, bytes.TrimSpace(errOut.Bytes()))
	}
	bin := string(bytes.TrimSpace(out.Bytes()))
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("install OctoPrint: %s gave no octoprint command: %w", script, err)
	}
	return bin, nil
}

// findScript looks for scripts/octoprint.sh from the working directory
// up (tests run in their package directory, the demo in the repository),
// then next to this source file.
func findScript() (string, error) {
	const rel = "scripts/octoprint.sh"
	dir, err := os.Getwd()
	for err == nil {
		if p := filepath.Join(dir, rel); isFile(p) {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		if p := filepath.Join(filepath.Dir(file), "..", "..", rel); isFile(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found above the working directory", rel)
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// start runs the server process and waits until the API answers.
func (s *Server) start(ctx context.Context) error {
	logFile, err := os.OpenFile(s.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("octoprint log: %w", err)
	}
	defer logFile.Close()
	cmd := exec.Command(s.bin, "serve", "--iknowwhatimdoing", "--basedir", s.BaseDir,
		"--host", "127.0.0.1", "--port", strconv.Itoa(s.port))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "PYTHONUNBUFFERED=1", "PYTHONPATH="+s.sitePath())
	// Its own process group, killed with the test binary if that dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func(done chan struct{}) {
		_ = cmd.Wait()
		close(done)
	}(s.exited)
	if err := s.waitReady(ctx); err != nil {
		_ = s.Kill()
		return fmt.Errorf("OctoPrint did not come up: %w\n%s", err, s.LogTail(3000))
	}
	return nil
}

// waitReady polls /api/version with the key until it answers 200.
func (s *Server) waitReady(ctx context.Context) error {
	for {
		if _, err := s.call(ctx, http.MethodGet, "/api/version", nil, http.StatusOK); err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return errors.New("the server exited")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Kill ends the server with SIGKILL (a crash, as far as clients can
// tell) and waits for it to be gone. The base dir stays for Restart.
func (s *Server) Kill() error {
	if s.cmd == nil {
		return nil
	}
	err := syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL) // a frozen one too
	if errors.Is(err, syscall.ESRCH) {
		err = nil
	}
	<-s.exited
	s.cmd = nil
	return err
}

// Freeze stops the server (SIGSTOP): it keeps its port and accepts
// connections but answers nothing, as a hung server does. Thaw resumes it.
func (s *Server) Freeze() error { return s.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen server (SIGCONT).
func (s *Server) Thaw() error { return s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) error {
	if s.cmd == nil {
		return errors.New("OctoPrint is not running")
	}
	return syscall.Kill(-s.cmd.Process.Pid, sig)
}

// Restart starts the server again on the same port, base dir and key.
func (s *Server) Restart(ctx context.Context) error {
	if err := s.Kill(); err != nil {
		return err
	}
	return s.start(ctx)
}

// Close kills the server and removes a base dir Start made.
func (s *Server) Close() error {
	err := s.Kill()
	s.client.CloseIdleConnections()
	s.cleanup()
	return err
}

func (s *Server) cleanup() {
	if s.tempDir {
		_ = os.RemoveAll(s.BaseDir)
	}
}

func (s *Server) logPath() string { return filepath.Join(s.BaseDir, "octoprint-console.log") }

// LogTail returns the last n bytes of the server's console output.
func (s *Server) LogTail(n int) string {
	data, err := os.ReadFile(s.logPath())
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if len(data) > n {
		data = data[len(data)-n:]
	}
	return string(data)
}
