package overlay

import (
	"encoding/json"
	"fmt"
	"strings"
)

// stateFromFlags maps the state flags of a push message or /api/printer.
func stateFromFlags(s stateInfo) State {
	f := s.Flags
	switch {
	case f.Cancelling:
		return StateCancelling
	case f.Pausing:
		return StatePausing
	case f.Paused:
		return StatePaused
	case f.Resuming:
		return StateResuming
	case f.Finishing:
		return StateFinishing
	case f.Printing:
		return StatePrinting
	case f.Error:
		return StateError
	case f.ClosedOrError:
		return StateOffline
	case f.Operational:
		return StateReady
	}
	return stateFromText(s.Text) // opening/detecting/connecting: no flag
}

// stateFromText maps OctoPrint's state text, all that /api/job gives.
func stateFromText(text string) State {
	switch {
	case text == "Operational":
		return StateReady
	case strings.HasPrefix(text, "Printing"), strings.HasPrefix(text, "Starting"),
		strings.HasPrefix(text, "Sending file"), strings.HasPrefix(text, "Transferring file"):
		return StatePrinting
	case text == "Pausing":
		return StatePausing
	case text == "Paused":
		return StatePaused
	case text == "Resuming":
		return StateResuming
	case text == "Cancelling":
		return StateCancelling
	case text == "Finishing":
		return StateFinishing
	case text == "Offline":
		return StateOffline
	case text == "Offline after error", strings.HasPrefix(text, "Error"):
		return StateError
	case text == "Opening serial connection", text == "Detecting serial connection",
		text == "Detecting baudrate", text == "Connecting":
		return StateConnecting
	}
	return StateUnknown
}

// stateFromID maps a PrinterStateChanged event's state_id.
func stateFromID(id string) State {
	switch id {
	case "OPERATIONAL":
		return StateReady
	case "PRINTING", "STARTING", "TRANSFERING_FILE":
		return StatePrinting
	case "PAUSING":
		return StatePausing
	case "PAUSED":
		return StatePaused
	case "RESUMING":
		return StateResuming
	case "CANCELLING":
		return StateCancelling
	case "FINISHING":
		return StateFinishing
	case "OFFLINE", "CLOSED", "NONE":
		return StateOffline
	case "ERROR", "CLOSED_WITH_ERROR":
		return StateError
	case "OPEN_SERIAL", "DETECT_SERIAL", "CONNECTING":
		return StateConnecting
	}
	return StateUnknown
}

// octoModel is what pipcam knows of one OctoPrint, merged from push
// messages or REST replies; status() turns it into a Status.
type octoModel struct {
	state   State
	text    string // OctoPrint's words for state
	errText string
	job     Job
	temps   []Temp
	// result is complete or cancelled after a print ends, shown until the
	// next print, as Moonraker does; OctoPrint itself goes back to
	// "Operational".
	result     State
	resultFile string
}

// setState moves to a new state. A print that ends without a PrintDone or
// PrintCancelled event (polling misses them) gets its result from how it
// ended: through Cancelling, or short of 100%.
func (m *octoModel) setState(s State, text, errText string) {
	if s == "" {
		return
	}
	if m.state.Active() && s == StateReady && m.result == "" {
		m.result = StateComplete
		if m.state == StateCancelling || m.job.Progress == nil || *m.job.Progress < 100 {
			m.result = StateCancelled
		}
		m.resultFile = m.job.File
	}
	if s != StateReady {
		m.result = ""
	}
	if s == StateOffline || s == StateError || s == StateConnecting {
		m.temps = nil // no printer, no readings
	}
	m.state, m.text, m.errText = s, text, errText
}

func (m *octoModel) setFile(j *jobInfo) {
	if j == nil {
		return
	}
	name := j.File.Display
	if name == "" {
		name = j.File.Name
	}
	if name != m.job.File {
		m.job.Layer, m.job.Layers = nil, nil
	}
	m.job.File = name
}

func (m *octoModel) setProgress(p *progressInfo) {
	if p == nil {
		return
	}
	m.job.Progress = p.Completion
	m.job.Elapsed = seconds(p.PrintTime)
	m.job.Left = seconds(p.PrintTimeLeft)
}

func (m *octoModel) setTemps(s tempSnapshot) error {
	t, err := s.temps()
	if err == nil {
		m.temps = t
	}
	return err
}

// applyCurrent merges a "current" or "history" message. Only history
// sets the state: "current" is rate-limited and a held-back one carries
// data from when it was made, so after a PrintDone it can still say
// Printing. State changes come as events, at once and in order.
func (m *octoModel) applyCurrent(c *currentPayload, history bool) error {
	switch {
	case c.State == nil:
	case history:
		m.setState(stateFromFlags(*c.State), c.State.Text, c.State.Error)
	case c.State.Error != "":
		m.errText = c.State.Error
	}
	m.setFile(c.Job)
	m.setProgress(c.Progress)
	if c.Job != nil {
		m.job.Z = c.CurrentZ
	}
	switch n := len(c.Temps); {
	case n > 0:
		return m.setTemps(c.Temps[n-1])
	case history:
		m.temps = nil // a fresh start (OctoPrint restarted): none yet
	}
	return nil
}

// applyEvent merges the events pipcam subscribes to. State changes come
// as events at once, while "current" is rate-limited to 2 per second.
func (m *octoModel) applyEvent(e *eventPayload) error {
	var p struct {
		StateID     string `json:"state_id"`
		StateString string `json:"state_string"`
		Error       string `json:"error"`
		Name        string `json:"name"`
	}
	switch e.Type {
	case "PrinterStateChanged", "Error", "FileSelected", "PrintStarted":
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			return fmt.Errorf("event %s: %w", e.Type, err)
		}
	case "DisplayLayerProgress_layerChanged":
		var l layerPayload
		if err := json.Unmarshal(e.Payload, &l); err != nil {
			return fmt.Errorf("event %s: %w", e.Type, err)
		}
		m.job.Layer, m.job.Layers = looseInt(l.CurrentLayer), looseInt(l.TotalLayer)
	}
	switch e.Type {
	case "PrinterStateChanged":
		s := stateFromID(p.StateID)
		errText := m.errText
		if s != StateError {
			errText = ""
		}
		m.setState(s, p.StateString, errText)
	case "FileSelected", "PrintStarted":
		// Before the next "current": the print's events name the file.
		if p.Name != m.job.File {
			m.job = Job{File: p.Name}
		}
		if e.Type == "PrintStarted" {
			m.result = ""
			m.job = Job{File: p.Name, Z: m.job.Z}
		}
	case "PrintDone":
		m.result, m.resultFile = StateComplete, m.job.File
	case "PrintCancelled":
		m.result, m.resultFile = StateCancelled, m.job.File
	case "Error":
		m.errText = p.Error
	}
	return nil
}

// applyJob merges GET /api/job.
func (m *octoModel) applyJob(r *jobReply) {
	// Progress first: the state change judges a print that ended by it.
	m.setFile(r.Job)
	m.setProgress(r.Progress)
	m.setState(stateFromText(r.State), r.State, r.Error)
}

// applyPrinter merges GET /api/printer; printer is nil after a 409 (no
// printer connected: no temperatures).
func (m *octoModel) applyPrinter(r *printerReply) error {
	if r == nil {
		m.temps = nil
		return nil
	}
	if r.State != nil {
		m.setState(stateFromFlags(*r.State), r.State.Text, m.errText)
	}
	return m.setTemps(r.Temperature)
}

// status is the model as the overlay shows it.
func (m *octoModel) status() Status {
	st := Status{
		Source:    "OctoPrint",
		State:     m.state,
		StateText: m.text,
		Job:       m.job,
		Temps:     m.temps,
	}
	switch {
	case m.state == StateReady && m.result != "" && m.resultFile == m.job.File:
		st.State = m.result
		st.StateText = map[State]string{StateComplete: "Finished", StateCancelled: "Cancelled"}[m.result]
	case m.state == StateOffline || m.state == StateError:
		// "Offline" alone would read as OctoPrint being offline.
		if strings.HasPrefix(m.text, "Offline") {
			st.StateText = "Printer " + strings.ToLower(m.text[:1]) + m.text[1:]
		}
		st.Message = m.errText
	}
	if st.StateText == "" {
		st.StateText = string(st.State)
	}
	return st
}
