package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// contender is one process the fixed section measures with no viewer.
type contender struct {
	name  string
	pid   int
	stop  func()
	cpu   []float64
	wakes []float64
}

// runFixed measures what pipcam costs with nobody watching, against the
// very graph `pipcam print-pipeline` prints run by gst-launch-1.0, and
// against an earlier pipcam binary (-before) when given: all run at
// once, measured one after another in alternating rounds (CPU of one core
// and voluntary context switches per second of all threads: the wake-ups
// an idle Pi pays).
func runFixed(bin, before string, rounds int, window time.Duration, sb *scoreboard) error {
	var cs []*contender
	defer func() {
		for _, c := range cs {
			c.stop()
		}
	}()
	bins := [][2]string{{"pipcam", bin}}
	if before != "" {
		bins = append(bins, [2]string{"pipcam -before", before})
	}
	for _, b := range bins {
		d, err := startDaemon(b[1], daemonOpts{quiet: true})
		if err != nil {
			return fmt.Errorf("%s: %w", b[0], err)
		}
		cs = append(cs, &contender{name: b[0], pid: d.pid(), stop: d.stop})
	}
	line, err := printedLine(bin)
	if err != nil {
		return err
	}
	cmd := exec.Command("sh", "-c", "exec "+line)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("gst-launch-1.0: %w", err)
	}
	cs = append(cs, &contender{name: "gst-launch-1.0 (printed graph)", pid: cmd.Process.Pid, stop: func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}})
	time.Sleep(3 * time.Second) // warm-up
	for round := 1; round <= rounds; round++ {
		for _, c := range cs {
			w0 := voluntarySwitches(c.pid)
			s := measure(c.pid, window, nil)
			c.cpu = append(c.cpu, s.cpu)
			c.wakes = append(c.wakes, float64(voluntarySwitches(c.pid)-w0)/window.Seconds())
			fmt.Fprintf(progress, "fixed round %d: %s: CPU %.1f %%, %.0f wake-ups/s\n", round, c.name, s.cpu, c.wakes[len(c.wakes)-1])
		}
	}
	gst := cs[len(cs)-1]
	gmean, _, _ := stats(gst.cpu)
	for _, c := range cs {
		mean, lo, hi := stats(c.cpu)
		wmean, wlo, whi := stats(c.wakes)
		ratio := ""
		if c != gst && gmean > 0 {
			ratio = fmt.Sprintf(", %.2fx the printed graph", mean/gmean)
		}
		sb.add("fixed", c.name+", no viewer", "", "CPU %.1f %% of one core (%.1f-%.1f)%s; %.0f wake-ups/s (%.0f-%.0f), %d rounds of %s",
			mean, lo, hi, ratio, wmean, wlo, whi, rounds, window)
	}
	return nil
}

// printedLine is the gst-launch-1.0 line pipcam prints for the bench's
// defaults (FLV on a free port, so it runs beside the daemons).
func printedLine(bin string) (string, error) {
	dir, err := os.MkdirTemp("", "pipcam-bench-fixed")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	cfgPath := filepath.Join(dir, "pipcam.yaml")
	if err := os.WriteFile(cfgPath, []byte("flv:\n  listen: \"127.0.0.1:0\"\n"+extraYAML), 0o600); err != nil {
		return "", err
	}
	out, err := exec.Command(bin, "print-pipeline", "-config", cfgPath).Output()
	if err != nil {
		return "", fmt.Errorf("print-pipeline: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1], nil
}

// voluntarySwitches sums voluntary_ctxt_switches over the process's
// threads (/proc/PID/status alone counts the main thread only).
func voluntarySwitches(pid int) uint64 {
	paths, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	var sum uint64
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "voluntary_ctxt_switches:"); ok {
				var n uint64
				fmt.Sscan(strings.TrimSpace(rest), &n)
				sum += n
			}
		}
	}
	return sum
}
