package overlay

import (
	"context"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pipcam/pipcam/configs"
	"github.com/pipcam/pipcam/internal/moonrakertest"
)

var moonPrintingRE = regexp.MustCompile(`^Printing (\d+)% · (?:\S+ left · )?E `)

// A whole print on a real Klippy behind a real Moonraker: Standby →
// Heating (the temperatures rising) → Printing with rising % and the time
// left → Paused → Printing → Complete, the bar following, the layers and
// the M117 message in the status, the events started, paused, resumed,
// done; then a second print cancelled. Over the websocket and polling.
func TestMoonrakerPrint(t *testing.T) {
	srv := moon(t)
	for _, tr := range transports() {
		t.Run(string(tr), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			o, sink := followMoon(t, srv, moonConfig(srv.URL, srv.APIKey, tr))
			kinds := collectEvents(o)
			file := "print-" + string(tr) + ".gcode"
			start := printMoon(t, ctx, srv, sink, file, 10*time.Second)
			sink.waitText(t, 15*time.Second, start, "Printing at 30% or more with the time left", func(s string) bool {
				m := moonPrintingRE.FindStringSubmatch(s)
				n, _ := strconv.Atoi(safeIndex(m, 1))
				return m != nil && n >= 30 && strings.Contains(s, " left · ")
			})
			if j := o.Report().Printer.Job; j.Layer == nil || j.Layers == nil || *j.Layers != 10 || *j.Layer < 1 {
				t.Errorf("layers while printing: %+v", j)
			}

			pauseAndResume(t, ctx, srv, sink, "Complete "+file+" · E ")

			// Heating: the extruder's temperature rose towards its target.
			var heating []string
			for _, s := range sink.Texts() {
				if strings.HasPrefix(s, "Heating") {
					heating = append(heating, s)
				}
			}
			if len(heating) < 2 {
				t.Errorf("heating shown as %q; want the temperatures rising", heating)
			}
			checkRising(t, sink.Texts(), moonPrintingRE)
			// The text is set first: the bar goes in the same update.
			eventually(t, 5*time.Second, "bar gone at the end", func() bool {
				bar := sink.Progress()
				return len(bar) > 0 && bar[len(bar)-1] == -1
			})
			if bar := sink.Progress(); !reached(bar, 0.5) {
				t.Errorf("bar %v", bar)
			}
			r := o.Report()
			if r.Printer.Display != "pipcam test print" || *r.Printer.Job.Layer != 10 || *r.Printer.Job.Progress != 100 {
				t.Errorf("complete: %+v", r.Printer)
			}
			if r.Link.Transport != string(tr) || !r.Link.Connected || r.Source != configs.PrinterMoonraker {
				t.Errorf("report %+v", r)
			}

			if err := srv.Cool(ctx); err != nil {
				t.Fatal(err)
			}
			start = printMoon(t, ctx, srv, sink, file, time.Minute)
			sink.waitText(t, 15*time.Second, start, "Printing", prefix("Printing"))
			if err := srv.Cancel(ctx); err != nil {
				t.Fatal(err)
			}
			sink.waitText(t, 3*time.Second, time.Now().Add(-time.Second), "Cancelled", prefix("Cancelled "+file))
			if got := strings.Join(kinds(), " "); got != "started paused resumed done started cancelled" {
				t.Errorf("events %q", got)
			}
		})
	}
}

// An overheated extruder shuts Klippy down mid-print: the overlay says so
// with Klippy's reason within 3 s and the print fails; FIRMWARE_RESTART
// brings it back to Standby.
func TestMoonrakerShutdown(t *testing.T) {
	srv := moon(t)
	for _, tr := range transports() {
		t.Run(string(tr), func(t *testing.T) {
			ctx, _, sink, kinds := printingMoon(t, srv, tr, "hot.gcode")
			trip := time.Now()
			if err := srv.Overheat(ctx); err != nil {
				t.Fatal(err)
			}
			s := sink.waitText(t, faultDeadline+time.Second, trip, "Klippy shutdown",
				prefix("Klippy shutdown: HOST temperature 300.0 above maximum temperature of 280.0."))
			t.Logf("overheated → %q after %v (Klippy samples once a second)", s.text, s.at.Sub(trip).Round(time.Millisecond))
			if err := srv.FirmwareRestart(ctx); err != nil {
				t.Fatal(err)
			}
			sink.waitText(t, faultDeadline, trip, "Standby", prefix("Standby"))
			var between []string
			for _, text := range sink.Texts() {
				if strings.HasPrefix(text, "Klippy") {
					between = append(between, strings.SplitN(text, ":", 2)[0])
				}
			}
			t.Logf("Klippy's states shown: %q", between)
			if got := strings.Join(kinds(), " "); got != "started failed" {
				t.Errorf("events %q", got)
			}
		})
	}
}

// Moonraker killed mid-print: "Moonraker offline" within 3 s, while
// Klippy prints on; restarted, the overlay follows the print again, and
// no event says it ended.
func TestMoonrakerKilled(t *testing.T) {
	srv := moon(t)
	for _, tr := range transports() {
		t.Run(string(tr), func(t *testing.T) {
			ctx, o, sink, kinds := printingMoon(t, srv, tr, "killed.gcode")
			seeKilled(t, o, sink, srv.KillMoonraker, "Moonraker offline")
			if err := srv.StartMoonraker(ctx); err != nil {
				t.Fatal(err)
			}
			up := time.Now()
			s := sink.waitText(t, recoverDeadline, up, "Printing", prefix("Printing"))
			t.Logf("restarted → %q after %v", s.text, s.at.Sub(up).Round(time.Millisecond))
			if got := strings.Join(kinds(), " "); got != "started" {
				t.Errorf("events %q", got)
			}
		})
	}
}

// A hung Moonraker (it accepts connections and answers nothing) shows as
// offline within 3 s, on an open socket too, and the overlay recovers.
func TestMoonrakerHung(t *testing.T) {
	srv := moon(t)
	for _, tr := range transports() {
		t.Run(string(tr), func(t *testing.T) {
			_, sink := followMoon(t, srv, moonConfig(srv.URL, srv.APIKey, tr))
			freeze := time.Now()
			if err := srv.FreezeMoonraker(); err != nil {
				t.Fatal(err)
			}
			defer srv.ThawMoonraker()
			s := sink.waitText(t, faultDeadline, freeze, "offline", prefix("Moonraker offline"))
			t.Logf("frozen → %q after %v", s.text, s.at.Sub(freeze).Round(time.Millisecond))
			if err := srv.ThawMoonraker(); err != nil {
				t.Fatal(err)
			}
			sink.waitText(t, recoverDeadline, time.Now(), "Standby", prefix("Standby"))
		})
	}
}

// No key where Moonraker wants one shows as missing within 3 s (a wrong
// one: TestWrongKey).
func TestMoonrakerNoKey(t *testing.T) {
	srv := moon(t)
	for _, tr := range transports() {
		t.Run(string(tr), func(t *testing.T) {
			standby(t, srv)
			start := time.Now()
			sink := newRecordSink()
			startOverlay(t, moonConfig(srv.URL, "", tr), sink)
			sink.waitText(t, faultDeadline, start, "no key", prefix("Moonraker: no API key"))
		})
	}
}

// Where Moonraker trusts pipcam's host (trusted_clients: loopback, as on
// a Pi with Mainsail) no key is needed.
func TestMoonrakerTrusted(t *testing.T) {
	moon(t) // skips or fails as the shared one does
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := moonrakertest.Start(ctx, moonrakertest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, tr := range transports() {
		sink := newRecordSink()
		startOverlay(t, moonConfig(srv.URL, "", tr), sink)
		sink.waitText(t, 5*time.Second, time.Time{}, "Standby over "+string(tr), prefix("Standby · E 25°C B 25°C"))
	}
}

// How long a state change on Moonraker (pause, resume) takes to reach the
// sink, push against poll. Logged for the report; each must come within
// the 3 s the overlay promises.
func TestMoonrakerLatency(t *testing.T) {
	srv := moon(t)
	const cycles = 6
	for _, tr := range transports() {
		t.Run(string(tr), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			_, sink := followMoon(t, srv, moonConfig(srv.URL, srv.APIKey, tr))
			start := printMoon(t, ctx, srv, sink, "latency.gcode", 5*time.Minute)
			sink.waitText(t, 15*time.Second, start, "Printing", prefix("Printing"))
			var lat []time.Duration
			for i := range 2 * cycles {
				change, want := srv.Pause, "Paused"
				if i%2 == 1 {
					change, want = srv.Resume, "Printing"
				}
				// Not a wait for anything: each change comes at a random
				// point of the poll period, as real ones do.
				time.Sleep(rand.N(time.Second))
				t0 := time.Now()
				if err := change(ctx); err != nil {
					t.Fatal(err)
				}
				s := sink.waitText(t, faultDeadline, t0, want, prefix(want))
				lat = append(lat, s.at.Sub(t0))
			}
			t.Logf("%s: state change on Moonraker → text at the sink: p50 %v, max %v over %d changes (%v)",
				tr, p50(lat).Round(time.Millisecond), maxDuration(lat).Round(time.Millisecond), len(lat), lat)
		})
	}
}
