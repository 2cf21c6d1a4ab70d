package overlay

import (
	"encoding/json"
	"time"
)

// State is what the printer is doing, in words common to every source:
// OctoPrint's and Moonraker's states both map onto it. The first group
// says the source itself cannot be read.
type State string

const (
	StateNone          State = "none"           // no printer configured
	StateSourceOffline State = "source_offline" // server unreachable, timing out or 5xx
	StateUnauthorized  State = "unauthorized"   // API key missing or rejected
	StateBadReply      State = "bad_reply"      // the server answered something we cannot read

	StateConnecting State = "connecting" // pipcam connecting, or the server connecting to the printer
	StateOffline    State = "offline"    // server up, printer not connected (Klippy went away)
	StateReady      State = "ready"      // OctoPrint Operational, Moonraker standby
	StatePrinting   State = "printing"
	StatePausing    State = "pausing"
	StatePaused     State = "paused"
	StateResuming   State = "resuming"
	StateCancelling State = "cancelling"
	StateFinishing  State = "finishing"
	StateComplete   State = "complete"  // the last print finished; until the next one
	StateCancelled  State = "cancelled" // the last print was cancelled; until the next one
	StateError      State = "error"     // printer error, Klippy shutdown
	StateUnknown    State = "unknown"   // a state the source named that we do not know
)

// Active reports whether a print is under way (printing, paused, or moving
// between the two, or ending).
func (s State) Active() bool {
	switch s {
	case StatePrinting, StatePausing, StatePaused, StateResuming, StateCancelling, StateFinishing:
		return true
	}
	return false
}

// Down reports whether the source cannot be read at all.
func (s State) Down() bool {
	return s == StateSourceOffline || s == StateUnauthorized || s == StateBadReply
}

// Status is one picture of the printer. Values the source does not report
// are nil ("unknown"), never zero: a template tests them with `with`.
type Status struct {
	Source    string `json:"source"`     // "OctoPrint", "Moonraker"; "" with no printer
	State     State  `json:"state"`      // canonical, for conditions
	StateText string `json:"state_text"` // the same in words: "Printing from SD", "OctoPrint offline"
	Message   string `json:"message,omitempty"`
	// Display is the printer's display message (M117, Klipper's
	// display_status), where the source has one.
	Display string `json:"display,omitempty"`
	Job     Job    `json:"job"`
	Temps   []Temp `json:"temps,omitempty"` // tools, then bed, then chamber
	// Event is the latest print lifecycle event, set by the component.
	Event Event `json:"event,omitzero"`
}

// Active is State.Active, for templates: {{if .Active}}.
func (s Status) Active() bool { return s.State.Active() }

// Down is State.Down, for templates.
func (s Status) Down() bool { return s.State.Down() }

// Job is the current (or last) print job.
type Job struct {
	File     string         // display name; "" when no file is selected
	Progress *float64       // percent, 0-100
	Elapsed  *time.Duration // print time so far
	Left     *time.Duration // the server's estimate of the time left
	Layer    *int           // current layer, 1-based, where known
	Layers   *int           // total layers, where known
	Z        *float64       // current height, mm
}

// MarshalJSON writes durations in seconds, which a dashboard can use
// without knowing Go's nanoseconds.
func (j Job) MarshalJSON() ([]byte, error) {
	secs := func(d *time.Duration) *float64 {
		if d == nil {
			return nil
		}
		s := d.Seconds()
		return &s
	}
	return json.Marshal(struct {
		File     string   `json:"file,omitempty"`
		Progress *float64 `json:"progress,omitempty"`
		Elapsed  *float64 `json:"elapsed_s,omitempty"`
		Left     *float64 `json:"left_s,omitempty"`
		Layer    *int     `json:"layer,omitempty"`
		Layers   *int     `json:"layers,omitempty"`
		Z        *float64 `json:"z,omitempty"`
	}{j.File, j.Progress, secs(j.Elapsed), secs(j.Left), j.Layer, j.Layers, j.Z})
}

// Temp is one heater: Name is short for the picture (E, E0, E1, B, C).
type Temp struct {
	Name   string   `json:"name"`
	Actual *float64 `json:"actual,omitempty"`
	Target *float64 `json:"target,omitempty"` // nil or 0: heater off
}

// progress is what the sink's bar shows: the fraction done while a print
// is active and its progress known, else -1 (no bar). Rounded to 1/1000
// so the bar is not redrawn for changes it cannot show.
func (s Status) progress() float64 {
	if !s.Active() || s.Job.Progress == nil {
		return -1
	}
	p := min(max(*s.Job.Progress/100, 0), 1)
	return float64(int(p*1000+0.5)) / 1000
}
