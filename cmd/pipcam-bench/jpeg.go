package main

import (
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"sync/atomic"
	"time"
)

// measureJPEG shows what the JPEG branch costs. Three daemons run side by
// side over the same windows, so the machine's drift hits all alike: one
// with the branch (nobody asking) and two without it (jpeg.enabled:
// false). The two alike show how far identical daemons differ: the noise
// the first one's extra cost is to be judged against. Then one MJPEG viewer
// on the first, and the time a snapshot takes.
func measureJPEG(bin string, rounds int, window time.Duration, sb *scoreboard) error {
	with, err := startDaemon(bin, daemonOpts{})
	if err != nil {
		return err
	}
	defer with.stop()
	var without [2]*daemon
	for i := range without {
		if without[i], err = startDaemon(bin, daemonOpts{yaml: "jpeg:\n  enabled: false\n"}); err != nil {
			return err
		}
		defer without[i].stop()
	}
	time.Sleep(3 * time.Second) // warm-up, as for the main figures

	var extra, noise []float64
	for round := 1; round <= rounds; round++ {
		cpu := cpuSideBySide(window, with.pid(), without[0].pid(), without[1].pid())
		extra = append(extra, cpu[0]-(cpu[1]+cpu[2])/2)
		noise = append(noise, cpu[1]-cpu[2])
		fmt.Fprintf(progress, "jpeg round %d: no JPEG client: CPU %5.1f %% with the JPEG branch; %5.1f and %5.1f %% without it\n", round, cpu[0], cpu[1], cpu[2])
	}
	mean, lo, hi := stats(extra)
	nmean, nlo, nhi := stats(noise)
	sb.add("jpeg", "JPEG branch with nobody asking: daemon CPU against daemons without it", "within noise",
		"%+.1f points of one core (range %+.1f to %+.1f); two identical daemons differ by %+.1f (range %+.1f to %+.1f)", mean, lo, hi, nmean, nlo, nhi)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var pictures atomic.Int64
	if err := readMJPEG(ctx, "http://"+with.httpAddr+"/?action=stream", &pictures); err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	n0 := pictures.Load()
	cpu := cpuSideBySide(window, with.pid(), without[0].pid(), without[1].pid())
	n := pictures.Load() - n0
	cancel()
	sb.add("jpeg", "1 MJPEG viewer: daemon CPU against daemons without JPEG", "",
		"%+.1f points (%.1f %% vs %.1f %%), %.1f fps received", cpu[0]-(cpu[1]+cpu[2])/2, cpu[0], (cpu[1]+cpu[2])/2, float64(n)/window.Seconds())

	lat, err := timeSnapshots("http://"+with.httpAddr+"/?action=snapshot", 10)
	if err != nil {
		return err
	}
	sb.add("jpeg", "snapshot, 10 one at a time (JPEG branch closed in between)", "", "p50 %s, max %s", pct(lat, 50), pct(lat, 100))
	return nil
}

// cpuSideBySide is the CPU of each process over the same window, in
// percent of one core.
func cpuSideBySide(window time.Duration, pids ...int) []float64 {
	t0 := time.Now()
	start := make([]uint64, len(pids))
	for i, pid := range pids {
		start[i] = cpuTicks(pid)
	}
	time.Sleep(window)
	wall := time.Since(t0).Seconds()
	out := make([]float64, len(pids))
	for i, pid := range pids {
		out[i] = float64(cpuTicks(pid)-start[i]) / clockTicks / wall * 100
	}
	return out
}

// readMJPEG reads the stream until ctx ends, counting pictures.
func readMJPEG(ctx context.Context, url string, pictures *atomic.Int64) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("MJPEG: %w", err)
	}
	_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return fmt.Errorf("MJPEG: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	go func() {
		defer resp.Body.Close()
		mr := multipart.NewReader(resp.Body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err == nil {
				_, err = io.Copy(io.Discard, part)
			}
			if err != nil {
				return
			}
			pictures.Add(1)
		}
	}()
	return nil
}

// timeSnapshots asks for n snapshots, apart by more than a frame so each
// one opens the JPEG branch afresh, and returns how long each took.
func timeSnapshots(url string, n int) ([]time.Duration, error) {
	var out []time.Duration
	for i := 0; i < n; i++ {
		t0 := time.Now()
		resp, err := http.Get(url)
		if err != nil {
			return nil, fmt.Errorf("snapshot: %w", err)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("snapshot: %d %v", resp.StatusCode, err)
		}
		out = append(out, time.Since(t0))
		time.Sleep(300 * time.Millisecond)
	}
	return out, nil
}
