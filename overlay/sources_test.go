package overlay

import (
	"context"
	"regexp"
	"strconv"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/pipcam/pipcam/configs"
)

// server is a real printer server the tests that hold for every source
// run against.
type server struct {
	name   string // "OctoPrint": how the overlay names it
	url    string
	key    string             // its API key
	ready  func(t *testing.T) // brings the server to its idle state
	config func(url string, transport configs.PrinterTransport) *configs.Config
	idle   string // what the overlay shows then
}

// servers are the sources' servers, each started in its subtest
// (Moonraker's skips where Klipper's source is absent).
var servers = []struct {
	name  string
	start func(*testing.T) server
}{{"OctoPrint", octoServer}, {"Moonraker", moonServer}}

func octoServer(t *testing.T) server {
	srv := octo(t)
	return server{"OctoPrint", srv.URL, srv.APIKey, func(t *testing.T) { ready(t, srv) },
		func(url string, tr configs.PrinterTransport) *configs.Config {
			return printerConfig(url, srv.APIKey, tr)
		}, "Operational"}
}

func moonServer(t *testing.T) server {
	srv := moon(t)
	return server{"Moonraker", srv.URL, srv.APIKey, func(t *testing.T) { standby(t, srv) },
		func(url string, tr configs.PrinterTransport) *configs.Config { return moonConfig(url, srv.APIKey, tr) }, "Standby"}
}

// followServer readies a server and starts an overlay on cfg, returning
// once the overlay shows idle.
func followServer(t *testing.T, ready func(*testing.T), cfg *configs.Config, idle string) (*Overlay, *recordSink) {
	t.Helper()
	ready(t)
	sink := newRecordSink()
	o, _ := startOverlay(t, cfg, sink)
	sink.waitText(t, 5*time.Second, time.Time{}, idle, prefix(idle))
	return o, sink
}

// printServer uploads, starts, pauses and resumes prints: octoprinttest's
// and moonrakertest's servers.
type printServer interface {
	Upload(ctx context.Context, name string, gcode []byte) error
	Print(ctx context.Context, name string) error
	Pause(ctx context.Context) error
	Resume(ctx context.Context) error
}

// startPrintOn uploads gcode as file and starts it, returning the start
// once the sink shows a text beginning with shows.
func startPrintOn(t *testing.T, ctx context.Context, srv printServer, sink *recordSink, file string, gcode []byte, shows string) time.Time {
	t.Helper()
	if err := srv.Upload(ctx, file, gcode); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := srv.Print(ctx, file); err != nil {
		t.Fatal(err)
	}
	sink.waitText(t, 3*time.Second, start, shows, prefix(shows))
	return start
}

// pauseAndResume pauses the print and resumes it, each shown within 3 s,
// and waits for the end: a text beginning with done.
func pauseAndResume(t *testing.T, ctx context.Context, srv printServer, sink *recordSink, done string) {
	t.Helper()
	pause := time.Now()
	if err := srv.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	sink.waitText(t, 3*time.Second, pause, "Paused", prefix("Paused "))
	resume := time.Now()
	if err := srv.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	sink.waitText(t, 3*time.Second, resume, "Printing", prefix("Printing"))
	sink.waitText(t, 30*time.Second, resume, done, prefix(done))
}

// seeKilled kills a server (kill) under a running overlay and checks the
// overlay says offline (down) within 3 s and reports the link down. It
// returns when the kill was.
func seeKilled(t *testing.T, o *Overlay, sink *recordSink, kill func() error, down string) time.Time {
	t.Helper()
	at := time.Now()
	if err := kill(); err != nil {
		t.Fatal(err)
	}
	s := sink.waitText(t, faultDeadline, at, "offline", prefix(down))
	t.Logf("killed → %q after %v", s.text, s.at.Sub(at).Round(time.Millisecond))
	if r := o.Report(); r.Link.Connected || r.Link.LastError == "" {
		t.Errorf("report while down: %+v", r.Link)
	}
	return at
}

// Close ends every goroutine the overlay started, whatever it was doing,
// for every source.
func TestNoLeakAfterClose(t *testing.T) {
	for _, target := range servers {
		t.Run(target.name, func(t *testing.T) {
			ft := target.start(t)
			ft.ready(t)
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			for _, tr := range []configs.PrinterTransport{configs.TransportPush, configs.TransportPoll, configs.TransportAuto} {
				sink := newRecordSink()
				o, err := New(context.Background(), ft.config(ft.url, tr), sink, quietLog())
				if err != nil {
					t.Fatal(err)
				}
				sink.waitText(t, 5*time.Second, time.Time{}, ft.idle, prefix(ft.idle))
				o.Close()
			}
			// And one closed while it cannot reach the server (backing off).
			sink := newRecordSink()
			o, err := New(context.Background(), ft.config("http://127.0.0.1:1", configs.TransportAuto), sink, quietLog())
			if err != nil {
				t.Fatal(err)
			}
			sink.waitText(t, 3*time.Second, time.Time{}, "offline", prefix(ft.name+" offline"))
			o.Close()
		})
	}
}

// checkRising: the % shown while printing (re's first group) never goes
// back and moves in several steps.
func checkRising(t *testing.T, texts []string, re *regexp.Regexp) {
	t.Helper()
	var pcts []int
	for _, s := range texts {
		if m := re.FindStringSubmatch(s); m != nil {
			n, _ := strconv.Atoi(m[1])
			pcts = append(pcts, n)
		}
	}
	distinct := 0
	for i, n := range pcts {
		if i > 0 && n < pcts[i-1] {
			t.Errorf("progress went back: %v", pcts)
			return
		}
		if i == 0 || n != pcts[i-1] {
			distinct++
		}
	}
	if distinct < 4 {
		t.Errorf("progress shown: %v; want it rising in steps", pcts)
	}
}
