package overlay

import "time"

// EventKind is a step in a print's life, for components that follow
// prints (recording starts on started and stops on done, cancelled,
// failed or lost).
type EventKind string

const (
	// EventStarted is also sent when pipcam first sees a print already
	// under way (after a restart of pipcam).
	EventStarted   EventKind = "started"
	EventPaused    EventKind = "paused"
	EventResumed   EventKind = "resumed"
	EventDone      EventKind = "done"
	EventCancelled EventKind = "cancelled"
	EventFailed    EventKind = "failed"
	// EventLost: the print ended while the source could not be read, and
	// how it ended is unknown.
	EventLost EventKind = "lost"
)

// Event is the latest print event. Seq grows by one per event, so a
// subscriber that was sent only the latest status can tell it missed one.
type Event struct {
	Seq  uint64    `json:"seq"`
	Kind EventKind `json:"kind"`
	File string    `json:"file,omitempty"`
	At   time.Time `json:"at"`
}

// eventTracker derives events from successive statuses, the same way for
// every source. Statuses while the source is down, or still connecting to
// the printer, are passed over: a print does not end because pipcam (or
// the server, restarting) lost sight of it.
type eventTracker struct {
	last  State  // last state seen while the source was up; "" before any
	file  string // the file of the active print
	gap   bool   // the source went down during an active print
	event Event
}

// observe takes the next status and returns the latest event (changed
// only when st makes a new one).
func (t *eventTracker) observe(st Status, now time.Time) Event {
	cur := st.State
	if cur.Down() || cur == StateConnecting {
		t.gap = t.gap || t.last.Active()
		return t.event
	}
	kind := transition(t.last, cur, t.gap, st.Job.Progress)
	if cur.Active() && st.Job.File != "" {
		t.file = st.Job.File
	}
	if kind != "" {
		t.event = Event{Seq: t.event.Seq + 1, Kind: kind, File: t.file, At: now}
	}
	t.last, t.gap = cur, false
	return t.event
}

// transition names the event between two states, "" for none. A source
// that cannot tell complete from cancelled (a poll that missed the end)
// reports ready; progress decides then.
func transition(prev, cur State, gap bool, progress *float64) EventKind {
	switch {
	case !prev.Active() && cur.Active():
		return EventStarted
	case prev.Active() && cur.Active():
		switch {
		case cur == StatePaused && prev != StatePaused:
			return EventPaused
		case prev == StatePaused && (cur == StateResuming || cur == StatePrinting):
			return EventResumed
		}
		return ""
	case !prev.Active():
		return ""
	}
	switch cur {
	case StateComplete:
		return EventDone
	case StateCancelled:
		return EventCancelled
	case StateError, StateOffline:
		return EventFailed
	}
	switch {
	case gap:
		return EventLost
	case cur == StateReady && progress != nil && *progress >= 100:
		return EventDone
	case cur == StateReady:
		return EventCancelled
	}
	return EventFailed
}
