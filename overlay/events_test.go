package overlay

import (
	"testing"
	"time"
)

func TestEvents(t *testing.T) {
	st := func(s State, file string, progress ...float64) Status {
		out := Status{State: s, Job: Job{File: file}}
		if len(progress) > 0 {
			out.Job.Progress = &progress[0]
		}
		return out
	}
	tests := []struct {
		name  string
		steps []Status
		want  []EventKind // one per step, "" for none
	}{
		{"a whole print", []Status{st(StateReady, ""), st(StatePrinting, "a.gcode"), st(StatePausing, "a.gcode"), st(StatePaused, "a.gcode"),
			st(StateResuming, "a.gcode"), st(StatePrinting, "a.gcode"), st(StateFinishing, "a.gcode"), st(StateComplete, "a.gcode")},
			[]EventKind{"", EventStarted, "", EventPaused, EventResumed, "", "", EventDone}},
		{"cancelled", []Status{st(StateReady, ""), st(StatePrinting, "a"), st(StateCancelling, "a"), st(StateCancelled, "a")},
			[]EventKind{"", EventStarted, "", EventCancelled}},
		{"printer error", []Status{st(StatePrinting, "a"), st(StateError, "a")}, []EventKind{EventStarted, EventFailed}},
		{"printer lost", []Status{st(StatePrinting, "a"), st(StateOffline, "")}, []EventKind{EventStarted, EventFailed}},
		{"pipcam starts mid-print", []Status{st(StateConnecting, ""), st(StatePaused, "a")}, []EventKind{"", EventStarted}},
		{"poll missed the end: done", []Status{st(StatePrinting, "a", 99), st(StateReady, "a", 100)}, []EventKind{EventStarted, EventDone}},
		{"poll missed the end: cancelled", []Status{st(StatePrinting, "a", 40), st(StateReady, "a", 41)}, []EventKind{EventStarted, EventCancelled}},
		{"source down mid-print, print goes on", []Status{st(StatePrinting, "a"), st(StateSourceOffline, ""), st(StatePrinting, "a")},
			[]EventKind{EventStarted, "", ""}},
		{"source down, print ended meanwhile", []Status{st(StatePrinting, "a"), st(StateSourceOffline, ""), st(StateBadReply, ""), st(StateReady, "a", 100)},
			[]EventKind{EventStarted, "", "", EventLost}},
		{"source down, finished meanwhile", []Status{st(StatePrinting, "a"), st(StateSourceOffline, ""), st(StateComplete, "a")},
			[]EventKind{EventStarted, "", EventDone}},
		{"server reconnecting to the printer mid-print (Moonraker restarted)", []Status{st(StatePrinting, "a"), st(StateSourceOffline, ""), st(StateConnecting, ""), st(StatePrinting, "a")},
			[]EventKind{EventStarted, "", "", ""}},
		{"printer reconnected after the print", []Status{st(StatePrinting, "a"), st(StateConnecting, ""), st(StateReady, "")},
			[]EventKind{EventStarted, "", EventLost}},
		{"down before anything", []Status{st(StateUnauthorized, ""), st(StateReady, "")}, []EventKind{"", ""}},
		{"next print", []Status{st(StateComplete, "a"), st(StatePrinting, "b")}, []EventKind{"", EventStarted}},
	}
	for _, tt := range tests {
		var tr eventTracker
		var seq uint64
		for i, s := range tt.steps {
			ev := tr.observe(s, time.Unix(int64(i), 0))
			got := EventKind("")
			if ev.Seq != seq {
				got = ev.Kind
				if ev.Seq != seq+1 {
					t.Errorf("%s step %d: seq %d after %d", tt.name, i, ev.Seq, seq)
				}
				seq = ev.Seq
			}
			if got != tt.want[i] {
				t.Errorf("%s step %d (%s): event %q, want %q", tt.name, i, s.State, got, tt.want[i])
			}
		}
	}
	// The end event names the file the print had.
	var tr eventTracker
	tr.observe(st(StatePrinting, "a.gcode"), time.Now())
	if ev := tr.observe(st(StateOffline, ""), time.Now()); ev.Kind != EventFailed || ev.File != "a.gcode" {
		t.Errorf("failed event %+v", ev)
	}
}
