// Command pipcam-bench measures a running pipcam from the outside: it starts
// the daemon binary on built-in defaults (loopback ports), connects real
// WebRTC viewers, and prints bitrate, fps, time from the WHEP POST to the
// first decodable keyframe, and the daemon's CPU and RSS with 1 and with 50
// viewers. `make bench` runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pipcam/pipcam/internal/viewer"
)

func main() {
	bin := flag.String("pipcam", "bin/pipcam", "the pipcam binary to measure")
	viewers := flag.Int("viewers", 50, "viewers in the crowd measurement")
	joins := flag.Int("joins", 20, "joins timed for the first-keyframe figure")
	window := flag.Duration("window", 8*time.Second, "how long each CPU/bitrate window is")
	rounds := flag.Int("rounds", 3, "alternations of 1 and -viewers viewers for the CPU figure")
	soak := flag.Duration("soak", 10*time.Minute, "how long the 30 fps soak runs (0: skip it)")
	only := flag.String("only", "", "run one section: viewers, overlay, soak, cameras or outputs (default: all)")
	flag.Parse()
	var err error
	if *only == "" || *only == "viewers" {
		err = run(*bin, *viewers, *joins, *rounds, *window)
	}
	if err == nil && (*only == "" || *only == "overlay") {
		err = runOverlay(*bin, *rounds, *window)
	}
	if err == nil && (*only == "" || *only == "soak") && *soak > 0 {
		err = runSoak(*bin, *soak)
	}
	if err == nil && (*only == "" || *only == "cameras") {
		err = runCameras(*bin, *rounds, *window)
	}
	if err == nil && (*only == "" || *only == "outputs") {
		err = runOutputs(*bin, *rounds, *window)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pipcam-bench:", err)
		os.Exit(1)
	}
}

func run(bin string, crowd, joins, rounds int, window time.Duration) error {
	d, err := startDaemon(bin, "", nil)
	if err != nil {
		return err
	}
	defer d.stop()
	baseURL := "http://" + d.httpAddr
	ctx := context.Background()
	fmt.Printf("pipcam-bench: defaults (640x480@15, 400 kbit/s, x264enc ultrafast), daemon pid %d, %d cores\n", d.cmd.Process.Pid, numCPU())
	time.Sleep(3 * time.Second) // warm-up: encoder and clocks settle

	idle := measure(d.pid(), window, nil)
	fmt.Printf("idle (0 viewers):   CPU %5.1f %% of one core, RSS %6.1f MB\n", idle.cpu, idle.rssMB)

	first, err := viewer.DialWHEP(ctx, baseURL, viewer.Options{Logger: quiet()})
	if err != nil {
		return fmt.Errorf("first viewer: %w", err)
	}
	defer first.Close()
	if err := waitDecodable(ctx, first); err != nil {
		return err
	}
	one := measure(d.pid(), window, first)
	fmt.Printf("1 viewer:           CPU %5.1f %% of one core, RSS %6.1f MB, received %.0f kbit/s at %.1f fps (configured 400 kbit/s, 15 fps)\n",
		one.cpu, one.rssMB, one.kbps, one.fps)

	lat, err := timeJoins(ctx, baseURL, joins)
	if err != nil {
		return err
	}
	fmt.Printf("join (%d WHEP joins to a running stream): first decodable keyframe after the POST p50 %s, p90 %s, max %s\n",
		len(lat), pct(lat, 50), pct(lat, 90), pct(lat, 100))

	// CPU of the daemon moves by a couple of points from window to window
	// (the test pattern, x264, the 50 client peers sharing these cores), so
	// the crowd's cost is measured in alternation: 1 viewer, 50, 1, 50 ...
	// and reported as the mean difference with its spread.
	var deltas []float64
	var rssPerViewer float64
	base := one
	for round := 1; round <= rounds; round++ {
		crowdViewers, err := dialCrowd(ctx, baseURL, crowd-1)
		if err != nil {
			return err
		}
		time.Sleep(2 * time.Second)
		many := measure(d.pid(), window, first)
		fmt.Printf("round %d: %d viewers: CPU %5.1f %% of one core, RSS %6.1f MB, viewer 1 still at %.0f kbit/s, %.1f fps\n",
			round, crowd, many.cpu, many.rssMB, many.kbps, many.fps)
		if round == 1 { // later rounds start from a heap the crowd already grew
			rssPerViewer = (many.rssMB - one.rssMB) / float64(crowd-1)
		}
		deltas = append(deltas, many.cpu-base.cpu)
		for _, v := range crowdViewers {
			v.Close()
		}
		if round < rounds {
			time.Sleep(2 * time.Second)
			base = measure(d.pid(), window, first)
			fmt.Printf("round %d: 1 viewer:  CPU %5.1f %% of one core\n", round+1, base.cpu)
		}
	}
	mean, lo, hi := stats(deltas)
	fmt.Printf("%d more viewers add %.1f points of one core (mean of %d rounds, range %.1f to %.1f) and %.2f MB RSS each\n",
		crowd-1, mean, len(deltas), lo, hi, rssPerViewer)
	return measureJPEG(bin, rounds, window)
}

// dialCrowd connects n viewers and waits until each has a picture; on
// failure it closes the ones it made.
func dialCrowd(ctx context.Context, baseURL string, n int) (vs []*viewer.Viewer, err error) {
	defer func() {
		if err != nil {
			for _, v := range vs {
				v.Close()
			}
		}
	}()
	for i := 0; i < n; i++ {
		v, err := viewer.DialWHEP(ctx, baseURL, viewer.Options{Logger: quiet(), AUBuffer: 1})
		if err != nil {
			return vs, fmt.Errorf("viewer %d: %w", i+2, err)
		}
		vs = append(vs, v)
	}
	for _, v := range vs {
		if err := waitDecodable(ctx, v); err != nil {
			return vs, err
		}
	}
	return vs, nil
}

func stats(xs []float64) (mean, lo, hi float64) {
	lo, hi = xs[0], xs[0]
	for _, x := range xs {
		mean += x
		lo, hi = min(lo, x), max(hi, x)
	}
	return mean / float64(len(xs)), lo, hi
}

// sample is one measurement window.
type sample struct {
	cpu, rssMB, kbps, fps float64
}

// measure watches the daemon's CPU time for a window and, with a viewer,
// what that viewer received in it.
func measure(pid int, window time.Duration, v *viewer.Viewer) sample {
	t0, c0 := time.Now(), cpuTicks(pid)
	var s0 viewer.Stats
	if v != nil {
		s0 = v.Stats()
	}
	time.Sleep(window)
	wall := time.Since(t0).Seconds()
	s := sample{
		cpu:   float64(cpuTicks(pid)-c0) / clockTicks / wall * 100,
		rssMB: rssMB(pid),
	}
	if v != nil {
		s1 := v.Stats()
		s.kbps = float64(s1.Bytes-s0.Bytes) * 8 / 1000 / wall
		s.fps = float64(s1.AUs-s0.AUs) / wall
	}
	return s
}

// timeJoins joins n times, one at a time, and returns the time from the
// start of each dial (it POSTs once its own host candidates are gathered) to
// the first access unit a decoder can start on.
func timeJoins(ctx context.Context, base string, n int) ([]time.Duration, error) {
	var out []time.Duration
	for i := 0; i < n; i++ {
		v, err := viewer.DialWHEP(ctx, base, viewer.Options{Logger: quiet()})
		if err != nil {
			return nil, fmt.Errorf("join %d: %w", i+1, err)
		}
		err = waitDecodable(ctx, v)
		if err == nil {
			out = append(out, v.FirstDecodableAt().Sub(v.Started()))
		}
		v.Close()
		if err != nil {
			return nil, fmt.Errorf("join %d: %w", i+1, err)
		}
		// Apart by more than the keyframe rate limit, like viewers who
		// arrive one by one.
		time.Sleep(400 * time.Millisecond)
	}
	return out, nil
}

func waitDecodable(ctx context.Context, v *viewer.Viewer) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return v.WaitFirstDecodable(ctx)
}

func pct(d []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	i = min(max(i-1, 0), len(s)-1)
	return s[i].Round(time.Millisecond)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// daemon is the pipcam process under test.
type daemon struct {
	cmd      *exec.Cmd
	httpAddr string
	dir      string
}

// startDaemon runs pipcam on the built-in defaults with loopback ports,
// plus extraYAML (more top-level settings) and env (more environment).
func startDaemon(bin, extraYAML string, env []string) (*daemon, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("pipcam binary: %w (run make build)", err)
	}
	dir, err := os.MkdirTemp("", "pipcam-bench")
	if err != nil {
		return nil, err
	}
	httpAddr, flvAddr := freePort(), freePort()
	// The control token is made in the temporary directory, not /var/lib.
	cfg := fmt.Sprintf("http:\n  listen: %q\n  token_file: %q\nflv:\n  listen: %q\nlog:\n  level: warn\n",
		httpAddr, filepath.Join(dir, "token"), flvAddr) + extraYAML
	cfgPath := filepath.Join(dir, "pipcam.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "run", "-config", cfgPath)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	d := &daemon{cmd: cmd, httpAddr: httpAddr, dir: dir}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + httpAddr + "/api/status")
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

// freePort finds a free loopback TCP port.
func freePort() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
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
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
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
