package overlay

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/pipcam/pipcam/configs"
)

// No printer: the default text once, no bar, and nothing more.
func TestNoPrinter(t *testing.T) {
	sink := newRecordSink()
	o, err := New(context.Background(), configs.Default(), sink, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	r := o.Report()
	o.Close()
	if got := sink.Texts(); !slices.Equal(got, []string{"pipcam"}) {
		t.Errorf("texts %q", got)
	}
	if got := sink.Progress(); !slices.Equal(got, []float64{-1}) {
		t.Errorf("progress %v", got)
	}
	if r.Source != configs.PrinterNone || r.Text != "pipcam" || r.Progress != -1 || r.Printer.State != StateNone {
		t.Errorf("report %+v", r)
	}
	o.Close() // twice is fine
}

// What a graph built before the overlay shows first.
func TestFirstText(t *testing.T) {
	cfg := configs.Default()
	if got, err := FirstText(cfg); err != nil || got != "pipcam" {
		t.Errorf("no printer: %q, %v", got, err)
	}
	cfg.Printer = configs.Printer{Type: configs.PrinterOctoPrint, URL: "http://127.0.0.1:5000"}
	if got, err := FirstText(cfg); err != nil || got != "Connecting to OctoPrint" {
		t.Errorf("OctoPrint: %q, %v", got, err)
	}
}

// No printer, the clock: a new text every second.
func TestNoPrinterClock(t *testing.T) {
	sink := newRecordSink()
	cfg := configs.Default()
	cfg.Overlay.Text = `{{clock "15:04:05"}}`
	o, err := New(context.Background(), cfg, sink, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	first := sink.Texts()[0]
	if _, err := time.Parse("15:04:05", first); err != nil {
		t.Fatalf("text %q is not a clock", first)
	}
	sink.waitText(t, 3*time.Second, time.Time{}, "next second", func(s string) bool { return s != first })
}

// The sink is called only when the text or the bar changes.
func TestSetOnlyOnChange(t *testing.T) {
	sink := newRecordSink()
	_, ch := startScripted(t, `{{.StateText}}{{with .Job.Progress}} {{percent .}}{{end}}`, sink)
	printing := func(p float64) Status {
		return Status{State: StatePrinting, StateText: "Printing", Job: Job{Progress: &p}}
	}
	for _, st := range []Status{printing(10), printing(10), printing(10.04), printing(10.3), printing(11), printing(11)} {
		ch <- st
	}
	ch <- Status{State: StateReady, StateText: "Operational"}
	sink.waitText(t, 3*time.Second, time.Time{}, "Operational", prefix("Operational"))
	if got, want := sink.Texts(), []string{"Connecting", "Printing 10%", "Printing 11%", "Operational"}; !slices.Equal(got, want) {
		t.Errorf("texts %q, want %q", got, want)
	}
	// 10.04% rounds to the same 1/1000 as 10%; 10.3% does not.
	if got, want := sink.Progress(), []float64{-1, 0.1, 0.103, 0.11, -1}; !slices.Equal(got, want) {
		t.Errorf("progress %v, want %v", got, want)
	}
}

// A template that fails on a status shows the state in words, and says so.
func TestTemplateFailureShowsState(t *testing.T) {
	sink := newRecordSink()
	o, ch := startScripted(t, `{{(index .Temps 0).Name}}`, sink)
	if got := sink.Texts(); !slices.Equal(got, []string{"Connecting"}) {
		t.Errorf("texts %q", got)
	}
	if r := o.Report(); r.TemplateError == "" {
		t.Error("no template error in the report")
	}
	ch <- Status{State: StateReady, StateText: "Operational", Temps: []Temp{{Name: "E"}}}
	sink.waitText(t, 3*time.Second, time.Time{}, "E", func(s string) bool { return s == "E" })
	// The report is written just after the sink call.
	eventually(t, 3*time.Second, "the template error cleared", func() bool { return o.Report().TemplateError == "" })
}

// A sink that fails is asked again with the next status.
func TestSinkErrorRetried(t *testing.T) {
	sink := newRecordSink()
	sink.fail = errSinkDown
	o, ch := startScripted(t, "", sink)
	if r := o.Report(); r.SinkError != errSinkDown.Error() || r.Text != "" {
		t.Errorf("report after a failed SetText: %+v", r)
	}
	ch <- Status{State: StateReady, StateText: "Operational"}
	sink.waitText(t, 3*time.Second, time.Time{}, "Operational", prefix("Operational"))
	// The report is written just after the sink call.
	eventually(t, 3*time.Second, "the sink error cleared", func() bool { return o.Report().SinkError == "" })
	if r := o.Report(); r.Text != "Operational" {
		t.Errorf("report after recovery: %+v", r)
	}
}

// Subscribers get the current status first, never hold up the overlay,
// always get the latest, and see print events with their sequence.
func TestSubscribe(t *testing.T) {
	sink := newRecordSink()
	o, ch := startScripted(t, "", sink)
	slow, cancelSlow := o.Subscribe()
	if st := <-slow; st.State != StateConnecting {
		t.Errorf("first status %+v", st)
	}
	events, cancelEvents := o.Subscribe()
	defer cancelEvents()
	<-events

	// 100 statuses while slow reads nothing: the producer goes on.
	for i := range 100 {
		p := float64(i)
		ch <- Status{State: StatePrinting, StateText: "Printing", Job: Job{File: "a.gcode", Progress: &p}}
	}
	ch <- Status{State: StatePaused, StateText: "Paused", Job: Job{File: "a.gcode"}}
	ch <- Status{State: StatePrinting, StateText: "Printing", Job: Job{File: "a.gcode"}}
	ch <- Status{State: StateComplete, StateText: "Finished", Job: Job{File: "a.gcode"}}
	sink.waitText(t, 3*time.Second, time.Time{}, "Finished", prefix("Finished"))

	// slow gets the latest; of the 103 before it, only the newest few.
	n := 0
	for latest := false; !latest; {
		select {
		case st := <-slow:
			n++
			latest = st.State == StateComplete
		case <-time.After(3 * time.Second):
			t.Fatalf("the slow subscriber did not get the latest status (%d others)", n)
		}
	}
	if n > subBuffer+1 {
		t.Errorf("the slow subscriber got %d statuses; a full buffer drops the oldest", n)
	}
	cancelSlow()
	if _, open := <-slow; open {
		t.Error("cancel did not close the channel")
	}
	cancelSlow() // twice is fine

	// Every event, in order, with seq counting up; the last is "done".
	var kinds []EventKind
	var seq uint64
	for len(kinds) < 4 {
		st := <-events
		if st.Event.Seq > seq {
			if st.Event.Seq != seq+1 {
				t.Errorf("seq jumped from %d to %d", seq, st.Event.Seq)
			}
			seq = st.Event.Seq
			kinds = append(kinds, st.Event.Kind)
			if st.Event.File != "a.gcode" {
				t.Errorf("event file %q", st.Event.File)
			}
		}
	}
	if want := []EventKind{EventStarted, EventPaused, EventResumed, EventDone}; !slices.Equal(kinds, want) {
		t.Errorf("events %v, want %v", kinds, want)
	}

	o.Close()
	for range events {
	}
	after, cancelAfter := o.Subscribe()
	defer cancelAfter()
	if _, open := <-after; !open {
		t.Error("a subscription after Close gets no current status")
	}
	if _, open := <-after; open {
		t.Error("a subscription after Close stays open")
	}
}
