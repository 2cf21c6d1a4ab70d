package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/pipcam/pipcam/internal/netem"
	"github.com/pipcam/pipcam/internal/viewer"
)

const (
	latencyWarmup = 10 * time.Second // joining, and adapting to a weak link
	latencyWindow = 20 * time.Second
)

// runLatency measures capture to viewer (the abs-capture-time the viewer
// reads, against its arrival on the same clock) on loopback and behind
// the weak WiFi link, on the built-in defaults.
func runLatency(bin string, sb *scoreboard) error {
	d, err := startDaemon(bin, daemonOpts{})
	if err != nil {
		return err
	}
	var mu sync.Mutex
	var lat []time.Duration
	collecting := false
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	v, err := viewer.DialWHEP(ctx, d.base(), viewer.Options{Logger: quiet(), AUBuffer: 1, OnAU: func(au viewer.AU) {
		mu.Lock()
		defer mu.Unlock()
		if collecting && !au.Capture.IsZero() {
			lat = append(lat, au.Latency())
		}
	}})
	if err == nil {
		err = waitDecodable(ctx, v)
	}
	if err != nil {
		d.stop()
		return fmt.Errorf("loopback viewer: %w", err)
	}
	fmt.Fprintln(progress, "latency: loopback")
	time.Sleep(3 * time.Second) // warm-up: encoder and clocks settle
	mu.Lock()
	collecting = true
	mu.Unlock()
	time.Sleep(latencyWindow) // the measurement window
	mu.Lock()
	loop := append([]time.Duration(nil), lat...)
	mu.Unlock()
	v.Close()
	d.stop()
	if len(loop) == 0 {
		return fmt.Errorf("the loopback viewer got no capture times")
	}
	sb.add("latency", "capture → viewer, loopback (p50 / p95)", "p50 ≤ 100 ms", "%s / %s (%d pictures)", pct(loop, 50), pct(loop, 95), len(loop))

	if os.Geteuid() != 0 {
		sb.add("latency", "capture → viewer behind 300 kbit/s", "", "not measured: needs root (network namespaces)")
		return nil
	}
	return weakLatency(bin, sb)
}

// weakLatency puts the viewer behind netem.WeakWiFi: how soon the target
// is under the link rate, then capture to viewer and the pictures that
// arrive intact.
func weakLatency(bin string, sb *scoreboard) error {
	fmt.Fprintln(progress, "latency: behind the weak link")
	w := netem.WeakWiFi
	link, err := netem.New("pipcam-bench", 78)
	if err != nil {
		return err
	}
	defer link.Close()
	if err := link.Apply(w); err != nil {
		return err
	}
	d, err := startDaemon(bin, daemonOpts{host: link.HostIP})
	if err != nil {
		return err
	}
	defer d.stop()
	start := time.Now()
	rv, err := link.StartViewer(d.base(), w.Delay)
	if err != nil {
		return err
	}
	defer rv.Close()
	adapted := time.Duration(-1)
	for time.Since(start) < latencyWarmup+latencyWindow {
		if t, err := targetKbps(d.base()); err == nil && t < w.Kbit && adapted < 0 {
			adapted = time.Since(start)
		}
		if exited, msg := rv.Exited(); exited {
			return fmt.Errorf("viewer behind the link ended: %s", msg)
		}
		time.Sleep(200 * time.Millisecond) // polling the target
	}
	from := start.Add(latencyWarmup)
	var lat []time.Duration
	var intact []time.Time
	for _, r := range rv.Records() {
		if r.Arrival.After(from) && !r.RefLost {
			intact = append(intact, r.Arrival)
			if r.Latency != 0 {
				lat = append(lat, r.Latency)
			}
		}
	}
	what := fmt.Sprintf("capture → viewer behind %d kbit/s, %s, %d %% loss (p50 / p95)", w.Kbit, w.Delay, w.LossPercent)
	if len(lat) == 0 {
		sb.add("latency", what, "", "no intact pictures in %s", latencyWindow)
		return nil
	}
	sb.add("latency", what, "", "%s / %s; %.1f intact pictures/s, longest gap %s",
		pct(lat, 50), pct(lat, 95), float64(len(intact))/latencyWindow.Seconds(), longestGap(intact).Round(time.Millisecond))
	if adapted < 0 {
		sb.add("adaptation", fmt.Sprintf("encoder target under %d kbit/s", w.Kbit), "< 10 s", "not within %s", latencyWarmup+latencyWindow)
	} else {
		sb.add("adaptation", fmt.Sprintf("encoder target under %d kbit/s", w.Kbit), "< 10 s", "after %.1f s", adapted.Seconds())
	}
	return nil
}

func longestGap(at []time.Time) time.Duration {
	var g time.Duration
	for i := 1; i < len(at); i++ {
		g = max(g, at[i].Sub(at[i-1]))
	}
	return g
}

// targetKbps reads the adaptation's target from /api/status.
func targetKbps(base string) (int, error) {
	st, err := readStatus[struct {
		Stream struct {
			Target *int `json:"target_kbps"`
		} `json:"stream"`
	}](base)
	if err != nil {
		return 0, err
	}
	if st.Stream.Target == nil {
		return 0, fmt.Errorf("status has no target: adaptation off")
	}
	return *st.Stream.Target, nil
}
