package overlay

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/pipcam/pipcam/configs"
	"github.com/pipcam/pipcam/internal/moonrakertest"
)

// sharedMoon is the one real Klipper + Moonraker the tests use, one after
// another. It wants the API key from every client.
var sharedMoon struct {
	once sync.Once
	srv  *moonrakertest.Server
	err  error
}

// moon returns the shared Moonraker, started on first use. Where Klipper's
// source is absent (and cannot be fetched) the test skips, saying so.
func moon(t *testing.T) *moonrakertest.Server {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a real Klipper and Moonraker; not with -short")
	}
	sharedMoon.once.Do(func() {
		// The first run builds the MCU and the venvs (half a minute).
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		sharedMoon.srv, sharedMoon.err = moonrakertest.Start(ctx, moonrakertest.Options{RequireAPIKey: true})
	})
	if errors.Is(sharedMoon.err, moonrakertest.ErrNoKlipper) {
		t.Skip(sharedMoon.err)
	}
	if sharedMoon.err != nil {
		t.Fatalf("Klipper and Moonraker: %v", sharedMoon.err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Klipper and Moonraker logs:\n%s", sharedMoon.srv.LogTail(2000))
		}
	})
	return sharedMoon.srv
}

func closeMoon() {
	if sharedMoon.srv != nil {
		_ = sharedMoon.srv.Close()
	}
}

// standby brings the shared stack to Moonraker up, Klippy ready, no print
// (print_stats standby) and the heaters off and cold, whatever the last
// test left.
func standby(t *testing.T, srv *moonrakertest.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := toStandby(ctx, srv); err != nil {
		t.Fatal(err)
	}
	if err := srv.Cool(ctx); err != nil {
		t.Fatal(err)
	}
}

func toStandby(ctx context.Context, srv *moonrakertest.Server) error {
	_ = srv.ThawMoonraker()
	st, err := srv.State(ctx)
	if err != nil {
		_ = srv.KillMoonraker()
		if err := srv.StartMoonraker(ctx); err != nil {
			return err
		}
		if st, err = srv.State(ctx); err != nil {
			return err
		}
	}
	if st.Klippy != "ready" {
		return srv.FirmwareRestart(ctx) // a new Klippy: standby
	}
	switch st.Print {
	case "standby":
		return nil
	case "printing", "paused":
		if err := srv.Cancel(ctx); err != nil {
			return err
		}
		if _, err := srv.WaitPrint(ctx, "cancelled"); err != nil {
			return err
		}
	}
	if err := srv.Script(ctx, "SDCARD_RESET_FILE"); err != nil {
		return err
	}
	_, err = srv.WaitPrint(ctx, "standby")
	return err
}

// moonConfig points the default config at Moonraker.
func moonConfig(url, key string, transport configs.PrinterTransport) *configs.Config {
	cfg := configs.Default()
	cfg.Printer = configs.Printer{Type: configs.PrinterMoonraker, URL: url, APIKey: configs.Secret(key), Transport: transport}
	return cfg
}

// followMoon readies Moonraker and starts an overlay on it, returning once
// the overlay shows Standby.
func followMoon(t *testing.T, srv *moonrakertest.Server, cfg *configs.Config) (*Overlay, *recordSink) {
	t.Helper()
	return followServer(t, func(t *testing.T) { standby(t, srv) }, cfg, "Standby")
}

// printMoon uploads a print whose moving part takes about d as file and
// starts it, returning the start once the sink shows it (Heating first;
// the print proper follows within a few seconds).
func printMoon(t *testing.T, ctx context.Context, srv *moonrakertest.Server, sink *recordSink, file string, d time.Duration) time.Time {
	t.Helper()
	return startPrintOn(t, ctx, srv, sink, file, moonrakertest.GCode(d), "Heating")
}

// printingMoon follows Moonraker over tr and starts a minute's print of
// file: the test's context, the overlay, its sink, and its print events
// from the start (collectEvents).
func printingMoon(t *testing.T, srv *moonrakertest.Server, tr configs.PrinterTransport, file string) (context.Context, *Overlay, *recordSink, func() []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	o, sink := followMoon(t, srv, moonConfig(srv.URL, srv.APIKey, tr))
	kinds := collectEvents(o)
	printMoon(t, ctx, srv, sink, file, time.Minute)
	return ctx, o, sink, kinds
}
