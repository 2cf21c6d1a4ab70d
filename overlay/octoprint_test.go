package overlay

import (
	"context"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pipcam/pipcam/configs"
)

var printingRE = regexp.MustCompile(`^Printing (\d+)% · `)

// A whole print on a real OctoPrint: Operational → Printing with rising %
// → Paused → Printing → Finished, the bar following, and the events
// started, paused, resumed, done — over the push socket and polling.
func TestOctoPrintPrint(t *testing.T) {
	srv := octo(t)
	for _, tr := range transports() {
		t.Run(string(tr), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			o, sink := follow(t, srv, printerConfig(srv.URL, srv.APIKey, tr))
			kinds := collectEvents(o)
			// A virtual printer connected a moment ago reports its first
			// temperatures a few seconds later.
			sink.waitText(t, 5*time.Second, time.Time{}, "temperatures", prefix("Operational · E "))
			file := "print-" + string(tr) + ".gcode"
			start := startPrint(t, ctx, srv, sink, file, 12*time.Second)
			sink.waitText(t, 10*time.Second, start, "Printing at 20% or more", func(s string) bool {
				m := printingRE.FindStringSubmatch(s)
				n, _ := strconv.Atoi(safeIndex(m, 1))
				return m != nil && n >= 20
			})

			pauseAndResume(t, ctx, srv, sink, "Finished "+file+" · E ")

			checkRising(t, sink.Texts(), printingRE)
			// The bar followed, and went away at the end (the text is set
			// first: the bar follows in the same update).
			eventually(t, 5*time.Second, "bar gone at the end", func() bool {
				bar := sink.Progress()
				return len(bar) > 0 && bar[len(bar)-1] == -1
			})
			if bar := sink.Progress(); !reached(bar, 0.5) {
				t.Errorf("bar %v", bar)
			}

			if got := strings.Join(kinds(), " "); got != "started paused resumed done" {
				t.Errorf("events %q", got)
			}
			if r := o.Report(); r.Link.Transport != string(tr) || !r.Link.Connected || r.Source != configs.PrinterOctoPrint {
				t.Errorf("report %+v", r)
			}
		})
	}
}

// collectEvents follows o's print events from now on; the returned func
// ends the subscription and gives the kinds seen, in order. It first lets
// the subscription catch up with the last event the overlay derived: the
// overlay draws a status before it publishes it, so a test that saw the
// text may be a moment ahead of the subscription.
func collectEvents(o *Overlay) func() []string {
	ch, stop := o.Subscribe()
	got := make(chan []string, 1)
	var seen atomic.Uint64
	go func() {
		var kinds []string
		var seq uint64
		for st := range ch {
			seen.Store(st.Event.Seq)
			if st.Event.Seq > seq {
				if seq > 0 && st.Event.Seq != seq+1 {
					kinds = append(kinds, "(missed)")
				}
				seq = st.Event.Seq
				kinds = append(kinds, string(st.Event.Kind))
			}
		}
		got <- kinds
	}()
	return func() []string {
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && seen.Load() < o.Report().Printer.Event.Seq; {
			time.Sleep(10 * time.Millisecond)
		}
		stop()
		return <-got
	}
}

func safeIndex(m []string, i int) string {
	if i < len(m) {
		return m[i]
	}
	return ""
}

// reached reports whether any value is at least atLeast.
func reached(v []float64, atLeast float64) bool {
	for _, x := range v {
		if x >= atLeast {
			return true
		}
	}
	return false
}

// How long a state change on OctoPrint (pause, resume) takes to reach the
// sink, push against poll. Logged for the report; each must come within
// the 3 s the overlay promises.
func TestOctoPrintLatency(t *testing.T) {
	srv := octo(t)
	const cycles = 6
	for _, tr := range transports() {
		t.Run(string(tr), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			_, sink := follow(t, srv, printerConfig(srv.URL, srv.APIKey, tr))
			startPrint(t, ctx, srv, sink, "latency.gcode", 5*time.Minute)
			var lat []time.Duration
			for range cycles {
				// Not a wait for anything: each change comes at a random
				// point of the poll period, as real ones do, instead of
				// in step with the poll that showed the last one.
				time.Sleep(rand.N(time.Second))
				t0 := time.Now()
				if err := srv.Pause(ctx); err != nil {
					t.Fatal(err)
				}
				s := sink.waitText(t, 3*time.Second, t0, "Pausing", func(s string) bool {
					return strings.HasPrefix(s, "Pausing") || strings.HasPrefix(s, "Paused")
				})
				lat = append(lat, s.at.Sub(t0))
				if _, err := srv.WaitState(ctx, "Paused"); err != nil {
					t.Fatal(err)
				}
				sink.waitText(t, 3*time.Second, t0, "Paused", prefix("Paused"))
				time.Sleep(rand.N(time.Second)) // as above
				t1 := time.Now()
				if err := srv.Resume(ctx); err != nil {
					t.Fatal(err)
				}
				s = sink.waitText(t, 3*time.Second, t1, "Printing", func(s string) bool {
					return strings.HasPrefix(s, "Resuming") || strings.HasPrefix(s, "Printing")
				})
				lat = append(lat, s.at.Sub(t1))
				if _, err := srv.WaitState(ctx, "Printing"); err != nil {
					t.Fatal(err)
				}
			}
			t.Logf("%s: state change on OctoPrint → text at the sink: p50 %v, max %v over %d changes (%v)",
				tr, p50(lat).Round(time.Millisecond), maxDuration(lat).Round(time.Millisecond), len(lat), lat)
			if err := srv.Cancel(ctx); err != nil {
				t.Fatal(err)
			}
			sink.waitText(t, 10*time.Second, time.Time{}, "Cancelled", prefix("Cancelled latency.gcode"))
		})
	}
}

func maxDuration(ds []time.Duration) time.Duration {
	m := ds[0]
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}
