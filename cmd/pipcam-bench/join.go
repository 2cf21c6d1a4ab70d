package main

import (
	"context"
	"fmt"
	"time"

	"github.com/pipcam/pipcam/internal/viewer"
)

// runJoin times n WHEP joins to a running stream: from the start of each
// dial (it POSTs once its own host candidates are gathered) to the first
// access unit a decoder can start on.
func runJoin(bin string, n int, sb *scoreboard) error {
	d, err := startDaemon(bin, daemonOpts{})
	if err != nil {
		return err
	}
	defer d.stop()
	fmt.Fprintf(progress, "join: %d joins\n", n)
	time.Sleep(3 * time.Second) // warm-up: encoder and clocks settle
	ctx := context.Background()
	var out []time.Duration
	for i := 0; i < n; i++ {
		v, err := viewer.DialWHEP(ctx, d.base(), viewer.Options{Logger: quiet()})
		if err != nil {
			return fmt.Errorf("join %d: %w", i+1, err)
		}
		err = waitDecodable(ctx, v)
		if err == nil {
			out = append(out, v.FirstDecodableAt().Sub(v.Started()))
		}
		v.Close()
		if err != nil {
			return fmt.Errorf("join %d: %w", i+1, err)
		}
		// Apart by more than the keyframe rate limit, like viewers who
		// arrive one by one.
		time.Sleep(400 * time.Millisecond)
	}
	sb.add("join", fmt.Sprintf("first decodable frame after connect (p50 / p90 / max of %d joins)", n), "",
		"%s / %s / %s", pct(out, 50), pct(out, 90), pct(out, 100))
	return nil
}
