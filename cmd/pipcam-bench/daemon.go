package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// daemon is the pipcam process under test.
type daemon struct {
	cmd      *exec.Cmd
	httpAddr string
	flvAddr  string
	dir      string
}

// extraYAML is added to the config of every daemon the bench starts
// (-yaml), e.g. to compare with adaptation off.
var extraYAML string

// daemonOpts vary the built-in defaults the daemon runs on.
type daemonOpts struct {
	host  string   // the HTTP listener's address (default 127.0.0.1)
	yaml  string   // more top-level settings
	env   []string // more environment
	quiet bool     // log level error instead of warn
}

// startDaemon runs pipcam on the built-in defaults with loopback ports
// (HTTP on o.host), plus o.yaml and o.env.
func startDaemon(bin string, o daemonOpts) (*daemon, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("pipcam binary: %w (run make build)", err)
	}
	dir, err := os.MkdirTemp("", "pipcam-bench")
	if err != nil {
		return nil, err
	}
	if o.host == "" {
		o.host = "127.0.0.1"
	}
	httpAddr, flvAddr := freePort(o.host), freePort("127.0.0.1")
	level := "warn"
	if o.quiet {
		level = "error"
	}
	cfg := fmt.Sprintf("http:\n  listen: %q\nflv:\n  listen: %q\nlog:\n  level: %s\n", httpAddr, flvAddr, level) + freeICEPort(bin, o.yaml+extraYAML) + o.yaml + extraYAML
	cfgPath := filepath.Join(dir, "pipcam.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "run", "-config", cfgPath)
	cmd.Env = append(os.Environ(), o.env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	d := &daemon{cmd: cmd, httpAddr: httpAddr, flvAddr: flvAddr, dir: dir}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(d.base() + "/api/status")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return d, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.stop()
	return nil, fmt.Errorf("pipcam did not answer on %s within 30 s", httpAddr)
}

func (d *daemon) base() string { return "http://" + d.httpAddr }

func (d *daemon) pid() int { return d.cmd.Process.Pid }

func (d *daemon) stop() {
	_ = d.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = d.cmd.Process.Kill()
		<-done
	}
	os.RemoveAll(d.dir)
}

// freePort finds a free TCP port on host.
func freePort(host string) string {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times (100 on Linux).
const clockTicks = 100

// cpuTicks is the process's user+system CPU time in clock ticks.
func cpuTicks(pid int) uint64 {
	return statTicks(fmt.Sprintf("/proc/%d/stat", pid))
}

// goThreadTicks is the CPU time of the process's Go threads: those that
// carry the program's own name. GStreamer's streaming threads are named
// after their pads (and GLib's pool threads "pool-..."), so this is the
// share that viewers cost, without the test pattern's and x264's
// window-to-window swing.
func goThreadTicks(pid int) uint64 {
	name, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return 0
	}
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	var sum uint64
	for _, t := range tasks {
		if comm, err := os.ReadFile(t + "/comm"); err == nil && string(comm) == string(name) {
			sum += statTicks(t + "/stat")
		}
	}
	return sum
}

// statTicks reads utime+stime from a /proc stat file.
func statTicks(path string) uint64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	// Fields after the ")" that ends the command name; utime and stime are
	// fields 14 and 15 of the whole line.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	var ut, st uint64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	return ut + st
}

func rssMB(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			var kb float64
			fmt.Sscan(strings.TrimSpace(strings.TrimPrefix(line, "VmRSS:")), &kb)
			return kb / 1024
		}
	}
	return 0
}

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "processor\t:")
}
