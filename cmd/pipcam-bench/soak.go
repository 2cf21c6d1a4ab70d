package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/pipcam/pipcam/internal/viewer"
)

// runSoak runs the daemon at 30 fps with one viewer for a long while and
// prints its RSS and GStreamer's count of live buffers (growth since the
// start, from the leaks tracer) at the start, every minute and at the end:
// a graph that holds buffers or leaks memory shows it here.
func runSoak(bin string, length time.Duration, sb *scoreboard) error {
	d, err := startDaemon(bin, daemonOpts{yaml: "output:\n  framerate: 30\n", env: []string{"GST_TRACERS=leaks(filters=GstBuffer)", "GST_DEBUG=0"}})
	if err != nil {
		return err
	}
	defer d.stop()
	base := d.base()
	ctx := context.Background()
	v, err := viewer.DialWHEP(ctx, base, viewer.Options{Logger: quiet()})
	if err != nil {
		return fmt.Errorf("soak viewer: %w", err)
	}
	defer v.Close()
	if err := waitDecodable(ctx, v); err != nil {
		return err
	}
	time.Sleep(5 * time.Second)                   // warm-up: encoder, pools and heap settle
	if _, err := bufferGrowth(base); err != nil { // starts the count
		return err
	}
	startRSS := rssMB(d.pid())
	s0 := v.Stats()
	fmt.Fprintf(progress, "soak (%s at 640x480@30, 1 viewer, GST_TRACERS=leaks):\n", length)
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
		growth, err := bufferGrowth(base)
		if err != nil {
			return err
		}
		fmt.Fprintf(progress, "  %5.1f min: RSS %6.1f MB, live GstBuffers %+d\n", time.Since(started).Minutes(), rssMB(d.pid()), growth)
	}
	s1 := v.Stats()
	growth, err := bufferGrowth(base)
	if err != nil {
		return err
	}
	secs := time.Since(started).Seconds()
	sb.add("soak", fmt.Sprintf("%s at 640x480@30, 1 viewer", length), "no growth",
		"RSS %.1f → %.1f MB (%+.1f), live GstBuffers %+d; the viewer got %.1f fps",
		startRSS, rssMB(d.pid()), rssMB(d.pid())-startRSS, growth, float64(s1.AUs-s0.AUs)/secs)
	return nil
}

// bufferGrowth reads the graph's gst_buffer_growth from /api/status.
func bufferGrowth(base string) (int, error) {
	resp, err := http.Get(base + "/api/status")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var st struct {
		Graph struct {
			Growth *int `json:"gst_buffer_growth"`
		} `json:"graph"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return 0, fmt.Errorf("status: %w", err)
	}
	if st.Graph.Growth == nil {
		return 0, fmt.Errorf("status has no gst_buffer_growth: is the leaks tracer running?")
	}
	return *st.Graph.Growth, nil
}
