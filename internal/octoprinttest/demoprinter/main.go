// Command demoprinter runs a real OctoPrint with its virtual printer
// printing in a loop, for `make demo` (scripts/demo.sh). Once the first
// print runs it writes OCTOPRINT_URL=... and OCTOPRINT_API_KEY=... lines
// to stdout; it prints, pauses part-way, finishes, rests and prints again
// until it is interrupted, then stops OctoPrint.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pipcam/pipcam/internal/octoprinttest"
)

func main() {
	length := flag.Duration("print", 3*time.Minute, "how long each print takes")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *length); err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "demoprinter:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, length time.Duration) error {
	start, cancel := context.WithTimeout(ctx, 10*time.Minute) // the first run installs OctoPrint
	defer cancel()
	srv, err := octoprinttest.Start(start, octoprinttest.Options{Autoconnect: true})
	if err != nil {
		return err
	}
	defer srv.Close()
	if _, err := srv.WaitState(start, "Operational"); err != nil {
		return err
	}
	const file = "demo_benchy.gcode"
	if err := srv.Upload(start, file, octoprinttest.GCode(length)); err != nil {
		return err
	}
	for first := true; ; first = false {
		if err := srv.Print(ctx, file); err != nil {
			return err
		}
		if _, err := srv.WaitState(ctx, "Printing"); err != nil {
			return err
		}
		if first {
			fmt.Printf("OCTOPRINT_URL=%s\nOCTOPRINT_API_KEY=%s\n", srv.URL, srv.APIKey)
		}
		// Pause a third of the way in, so the demo shows Paused too.
		if !rest(ctx, length/3) {
			return nil
		}
		if err := srv.Pause(ctx); err != nil {
			return err
		}
		if !rest(ctx, 10*time.Second) {
			return nil
		}
		if err := srv.Resume(ctx); err != nil {
			return err
		}
		if _, err := srv.WaitState(ctx, "Operational"); err != nil {
			return err
		}
		if !rest(ctx, 15*time.Second) { // "Finished" for a while
			return nil
		}
	}
}

// rest waits d; false when interrupted.
func rest(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
