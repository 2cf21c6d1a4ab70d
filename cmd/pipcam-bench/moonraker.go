package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pipcam/pipcam/internal/moonrakertest"
	"github.com/pipcam/pipcam/internal/viewer"
)

// moonrakerToPicture pauses and resumes a print on a real Klippy behind a
// real Moonraker n times and times each change to the first frame a WebRTC
// viewer receives that shows the new state word (frameWatch, as for
// OctoPrint): from the pause or resume request, and from the moment
// Moonraker told a web client of the new state (its websocket), which
// leaves out Klippy's own time to pause. Without Klipper's source it says
// so and measures nothing.
func moonrakerToPicture(bin string, n int, sb *scoreboard) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	setUp := time.Now()
	mr, err := moonrakertest.Start(ctx, moonrakertest.Options{})
	if errors.Is(err, moonrakertest.ErrNoKlipper) {
		fmt.Fprintln(progress, "Moonraker state change to picture: skipped:", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("start Klipper and Moonraker: %w", err)
	}
	defer mr.Close()
	fmt.Fprintf(progress, "Klipper and Moonraker started in %s\n", time.Since(setUp).Round(time.Millisecond))
	if err := mr.Upload(ctx, "bench.gcode", moonrakertest.GCode(10*time.Minute)); err != nil {
		return err
	}
	if err := mr.Print(ctx, "bench.gcode"); err != nil {
		return err
	}
	for mr.Temp("extruder") < moonrakertest.ExtruderTarget { // heating; pausing waits for it
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	frames, stop, err := watchPicture(ctx, bin, fmt.Sprintf("printer:\n  type: moonraker\n  url: %q\n", mr.URL))
	if err != nil {
		return err
	}
	defer stop()
	changes, err := mr.WatchPrint(ctx)
	if err != nil {
		return err
	}
	<-changes                   // the state now
	time.Sleep(3 * time.Second) // the overlay has connected and drawn "Printing"
	var fromAsk, fromReport []time.Duration
	for i := 0; i < n; i++ {
		change, want := mr.Pause, "paused"
		if i%2 == 1 {
			change, want = mr.Resume, "printing"
		}
		before := frames.stateRegion()
		asked := time.Now()
		if err := change(ctx); err != nil {
			return err
		}
		var reported time.Time
		for reported.IsZero() {
			select {
			case c, ok := <-changes:
				if !ok {
					return errors.New("moonraker websocket closed")
				}
				if c.State == want {
					reported = c.At
				}
			case <-time.After(10 * time.Second):
				return fmt.Errorf("moonraker never reported %s", want)
			}
		}
		at, err := frames.waitChange(before, asked, 10*time.Second)
		if err != nil {
			return fmt.Errorf("%s: %w", want, err)
		}
		fromAsk = append(fromAsk, at.Sub(asked))
		fromReport = append(fromReport, at.Sub(reported))
		time.Sleep(1500 * time.Millisecond) // settle between pause and resume
	}
	fmt.Fprintf(progress, "Moonraker state change to the first received frame showing it (websocket, %d changes):\n", n)
	fmt.Fprintf(progress, "  from Moonraker's report of it: p50 %s, p90 %s, max %s\n", pct(fromReport, 50), pct(fromReport, 90), pct(fromReport, 100))
	fmt.Fprintf(progress, "  from the pause/resume request: p50 %s, p90 %s, max %s\n", pct(fromAsk, 50), pct(fromAsk, 90), pct(fromAsk, 100))
	sb.add("overlay", fmt.Sprintf("Moonraker state change (pause/resume request) to the first received frame showing it, %d changes", n),
		"p50 ≤ 300 ms", "p50 %s, p90 %s, max %s (from Moonraker's own report: p50 %s)", pct(fromAsk, 50), pct(fromAsk, 90), pct(fromAsk, 100), pct(fromReport, 50))
	return nil
}

// watchPicture starts the daemon with extraYAML and a WebRTC viewer whose
// frames a frameWatch decodes, returning once a picture is decodable;
// stop ends all three.
func watchPicture(ctx context.Context, bin, extraYAML string) (*frameWatch, func(), error) {
	d, err := startDaemon(bin, daemonOpts{yaml: extraYAML})
	if err != nil {
		return nil, nil, err
	}
	frames := newFrameWatch(640, 480)
	v, err := viewer.DialWHEP(ctx, "http://"+d.httpAddr, viewer.Options{Logger: quiet(), OnAU: frames.add})
	if err != nil {
		frames.close()
		d.stop()
		return nil, nil, err
	}
	stop := func() {
		v.Close()
		frames.close()
		d.stop()
	}
	if err := waitDecodable(ctx, v); err != nil {
		stop()
		return nil, nil, err
	}
	return frames, stop, nil
}
