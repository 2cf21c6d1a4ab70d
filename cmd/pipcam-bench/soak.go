package main

import (
	"context"
	"fmt"
	"time"

	"github.com/pipcam/pipcam/internal/viewer"
)

// runSoak runs two daemons side by side at 30 fps, one viewer each, for a
// long while: one plain, whose RSS is what a user's daemon does, and one
// under GStreamer's leaks tracer, which counts live GstBuffers (growth
// since the start). The tracer's own bookkeeping grows the memory of the
// process it runs in, so the two figures cannot come from one daemon.
// Both are printed at the start, every minute and at the end: a graph
// that holds buffers or leaks memory shows it here.
func runSoak(bin string, length time.Duration, sb *scoreboard) error {
	const yaml = "output:\n  framerate: 30\n"
	plain, err := startSoakDaemon(bin, daemonOpts{yaml: yaml})
	if err != nil {
		return err
	}
	defer plain.stop()
	traced, err := startSoakDaemon(bin, daemonOpts{yaml: yaml, env: []string{"GST_TRACERS=leaks(filters=GstBuffer)", "GST_DEBUG=0"}})
	if err != nil {
		return err
	}
	defer traced.stop()
	time.Sleep(5 * time.Second)                            // warm-up: encoder, pools and heap settle
	if _, err := bufferGrowth(traced.base()); err != nil { // starts the count
		return err
	}
	startRSS := rssMB(plain.pid())
	s0 := plain.v.Stats()
	fmt.Fprintf(progress, "soak (%s at 640x480@30, 1 viewer; buffers counted in a second daemon under GST_TRACERS=leaks):\n", length)
	fmt.Fprintf(progress, "  start:  RSS %6.1f MB, live GstBuffers +0\n", startRSS)
	started := time.Now()
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for time.Since(started) < length {
		wait := min(time.Minute, length-time.Since(started))
		select {
		case <-tick.C:
		case <-time.After(wait):
		}
		growth, err := bufferGrowth(traced.base())
		if err != nil {
			return err
		}
		fmt.Fprintf(progress, "  %5.1f min: RSS %6.1f MB, live GstBuffers %+d\n", time.Since(started).Minutes(), rssMB(plain.pid()), growth)
	}
	s1 := plain.v.Stats()
	growth, err := bufferGrowth(traced.base())
	if err != nil {
		return err
	}
	endRSS := rssMB(plain.pid())
	secs := time.Since(started).Seconds()
	sb.add("soak", fmt.Sprintf("%s at 640x480@30, 1 viewer", length), "no growth",
		"RSS %.1f → %.1f MB (%+.1f), live GstBuffers %+d; the viewer got %.1f fps",
		startRSS, endRSS, endRSS-startRSS, growth, float64(s1.AUs-s0.AUs)/secs)
	return nil
}

// soakDaemon is a daemon with its one viewer.
type soakDaemon struct {
	*daemon
	v *viewer.Viewer
}

func startSoakDaemon(bin string, o daemonOpts) (*soakDaemon, error) {
	d, err := startDaemon(bin, o)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	v, err := viewer.DialWHEP(ctx, d.base(), viewer.Options{Logger: quiet()})
	if err != nil {
		d.stop()
		return nil, fmt.Errorf("soak viewer: %w", err)
	}
	if err := waitDecodable(ctx, v); err != nil {
		v.Close()
		d.stop()
		return nil, err
	}
	return &soakDaemon{daemon: d, v: v}, nil
}

func (s *soakDaemon) stop() {
	s.v.Close()
	s.daemon.stop()
}

// bufferGrowth reads the graph's gst_buffer_growth from /api/status.
func bufferGrowth(base string) (int, error) {
	st, err := readStatus[struct {
		Graph struct {
			Growth *int `json:"gst_buffer_growth"`
		} `json:"graph"`
	}](base)
	if err != nil {
		return 0, err
	}
	if st.Graph.Growth == nil {
		return 0, fmt.Errorf("status has no gst_buffer_growth: is the leaks tracer running?")
	}
	return *st.Graph.Growth, nil
}
