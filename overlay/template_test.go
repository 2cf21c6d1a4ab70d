package overlay

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pipcam/pipcam/configs"
)

var fixedNow = func() time.Time { return time.Date(2026, 3, 1, 14, 7, 42, 0, time.Local) }

// The helpers configs lets a template call are exactly the ones overlay
// has.
func TestFuncNamesMatchConfigs(t *testing.T) {
	var names []string
	for name := range funcs(fixedNow) {
		names = append(names, name)
	}
	slices.Sort(names)
	want := configs.OverlayFuncNames()
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("overlay helpers %v, configs.OverlayFuncNames %v", names, want)
	}
}

func heaters(e, et, b, bt float64) []Temp {
	return []Temp{{Name: "E", Actual: &e, Target: &et}, {Name: "B", Actual: &b, Target: &bt}}
}

// The default overlay.text for each kind of status.
func TestDefaultTemplate(t *testing.T) {
	tt, err := newTextTemplate(configs.Default().Overlay.Text, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	if tt.clocked {
		t.Error("the default template does not show the clock, so it must not be redrawn every second")
	}
	octo := func(s State, text string) Status { return Status{Source: "OctoPrint", State: s, StateText: text} }
	long := strings.Repeat("benchy_", 28) + "v2.gcode"
	tests := []struct {
		name string
		st   Status
		want string
	}{
		{"no printer", Status{State: StateNone, StateText: "No printer"}, "pipcam"},
		{"connecting", (&octoPrint{}).initial(), "Connecting to OctoPrint"},
		{"no job", with(octo(StateReady, "Operational"), func(s *Status) { s.Temps = heaters(21.3, 0, 21.3, 0) }), "Operational · E 21°C B 21°C"},
		{"temperatures missing", octo(StateReady, "Operational"), "Operational"},
		{"printing", with(octo(StatePrinting, "Printing"), func(s *Status) {
			s.Job = Job{File: "benchy.gcode", Progress: ptr(42.4), Left: ptr(72 * time.Minute)}
			s.Temps = heaters(209.8, 210, 60.1, 60)
		}), "Printing 42% · 1h12m left · E 210/210°C B 60/60°C"},
		{"unknown time left", with(octo(StatePrinting, "Printing from SD"), func(s *Status) {
			s.Job = Job{Progress: ptr(3.0)}
			s.Temps = heaters(209.8, 210, 60.1, 60)
		}), "Printing from SD 3% · E 210/210°C B 60/60°C"},
		{"0 %", with(octo(StatePrinting, "Printing"), func(s *Status) {
			s.Job = Job{Progress: ptr(0.0), Left: ptr(5 * time.Minute)}
		}), "Printing 0% · 5m00s left"},
		{"progress unknown", with(octo(StatePrinting, "Printing"), func(s *Status) {}), "Printing"},
		{"100 %", with(octo(StateFinishing, "Finishing"), func(s *Status) {
			s.Job = Job{Progress: ptr(100.0), Left: ptr(time.Duration(0))}
		}), "Finishing 100% · 0s left"},
		{"paused", with(octo(StatePaused, "Paused"), func(s *Status) {
			s.Job = Job{Progress: ptr(50.7), Left: ptr(2 * time.Minute)}
			s.Temps = heaters(209.8, 210, 60.1, 60)
		}), "Paused 50% · 2m00s left · E 210/210°C B 60/60°C"},
		{"finished, 200-character name", with(octo(StateComplete, "Finished"), func(s *Status) {
			s.Job = Job{File: long, Progress: ptr(100.0)}
			s.Temps = heaters(150, 0, 60, 0)
		}), "Finished benchy_benchy…hy_benchy_v2.gcode · E 150°C B 60°C"},
		{"cancelled", with(octo(StateCancelled, "Cancelled"), func(s *Status) { s.Job = Job{File: "cube.gcode"} }), "Cancelled cube.gcode"},
		{"error", with(octo(StateError, "Error"), func(s *Status) { s.Message = "MAXTEMP triggered!" }), "Error: MAXTEMP triggered!"},
		{"printer offline", octo(StateOffline, "Printer offline"), "Printer offline"},
		{"octoprint offline", with(octo(StateSourceOffline, "OctoPrint offline"), func(s *Status) { s.Message = "dial tcp: connection refused" }), "OctoPrint offline"},
		{"key rejected", octo(StateUnauthorized, "OctoPrint: API key rejected"), "OctoPrint: API key rejected"},
		{"bad reply", octo(StateBadReply, "OctoPrint: bad reply"), "OctoPrint: bad reply"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tt.render(tc.st)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func with(s Status, f func(*Status)) Status {
	f(&s)
	return s
}

func TestClean(t *testing.T) {
	if got := clean("  a\tb\x00c\r\nd\x1b[0m \n"); got != "a b c \nd [0m" {
		t.Errorf("control characters: %q", got)
	}
	if got := clean("ok\xffok"); got != "ok\uFFFDok" {
		t.Errorf("invalid UTF-8: %q", got)
	}
	for _, in := range []string{strings.Repeat("x", 300), strings.Repeat("é", 200), "a" + strings.Repeat("日", 100)} {
		got := clean(in)
		if len(got) > MaxText || !utf8.ValidString(got) || !strings.HasSuffix(got, ellipsis) {
			t.Errorf("clean(%d bytes) = %d bytes %q", len(in), len(got), got)
		}
		if len(got) < MaxText-3 {
			t.Errorf("cut too much: %d bytes", len(got))
		}
	}
	if got := clean(strings.Repeat("x", MaxText)); len(got) != MaxText || strings.HasSuffix(got, ellipsis) {
		t.Errorf("a text of exactly MaxText was cut: %q", got)
	}
}

func TestTemplateClocked(t *testing.T) {
	tests := map[string]bool{
		"pipcam":    false,
		"":          false,
		"{{clock}}": true,
		`{{if .Active}}done at {{eta .Job.Left}}{{end}}`: true,
		`{{with .Job}}{{.File | short 9}}{{end}}`:        false,
		`{{define "t"}}{{clock}}{{end}}{{template "t"}}`: true,
		`{{(clock "15:04").X}}`:                          true,
	}
	for text, want := range tests {
		tt, err := newTextTemplate(text, fixedNow)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if tt.clocked != want {
			t.Errorf("%q: clocked %v, want %v", text, tt.clocked, want)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	tt, err := newTextTemplate(`{{printf "%0100000d" 1}}`, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tt.render(Status{}); err == nil {
		t.Error("a 100 kB output was rendered")
	}
	tt, err = newTextTemplate(`{{index .Temps 3}}`, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tt.render(Status{}); err == nil || !strings.Contains(err.Error(), "index out of range") {
		t.Errorf("got %v", err)
	}
	if _, err := newTextTemplate(`{{nope}}`, fixedNow); err == nil {
		t.Error("an unknown helper parsed")
	}
}
