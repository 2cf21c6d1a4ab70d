package overlay

import (
	"encoding/json"
	"math"
	"strings"
	"time"
)

// klippyState maps Klippy's state (server.info's klippy_state, or
// webhooks.state once subscribed) when it is not ready: Moonraker is up
// but the printer cannot print. ok is false for "ready". Disconnected is
// connecting: Moonraker keeps trying Klippy's socket, and says so too in
// the moment after its own start, when the print may well go on (the
// model makes it offline when Klippy went away before pipcam's eyes).
func klippyState(state string) (s State, text string, ok bool) {
	switch state {
	case "ready":
		return "", "", false
	case "disconnected", "":
		return StateConnecting, "Klippy disconnected", true
	case "startup":
		return StateConnecting, "Klippy not ready", true
	case "shutdown":
		return StateError, "Klippy shutdown", true
	case "error":
		return StateError, "Klippy error", true
	}
	return StateUnknown, "Klippy " + state, true
}

// printState maps print_stats.state while Klippy is ready.
func printState(state string) (State, string) {
	switch state {
	case "standby":
		return StateReady, "Standby"
	case "printing":
		return StatePrinting, "Printing"
	case "paused":
		return StatePaused, "Paused"
	case "complete":
		return StateComplete, "Complete"
	case "cancelled":
		return StateCancelled, "Cancelled"
	case "error":
		return StateError, "Print failed"
	case "":
		return StateConnecting, "Connecting to Moonraker"
	}
	return StateUnknown, state
}

// heatingMargin is how far below its target a heater is "heating" (Klipper
// waits for M109 to within a degree; a watermark heater swings by two).
const heatingMargin = 3.0

// moonModel is what pipcam knows of one Moonraker, from server.info, the
// printer objects and the file's metadata; status() turns it into a Status.
type moonModel struct {
	info       serverInfo
	lost       bool           // Klippy went away during this session (notify_klippy_disconnected)
	objects    klipperObjects // valid while subscribed
	subscribed bool
	metaFile   string        // the file meta belongs to ("" none asked yet)
	meta       *fileMetadata // nil when Moonraker has none
}

// newSession forgets what the last session saw happen.
func (m *moonModel) newSession() { m.lost = false }

// setInfo takes server.info; a Klippy that is not ready has no objects.
func (m *moonModel) setInfo(i serverInfo) {
	m.info = i
	m.lost = m.lost && !i.KlippyConnected
	if !i.KlippyConnected || (i.KlippyState != "ready" && i.KlippyState != "shutdown" && i.KlippyState != "error") {
		m.subscribed = false
	}
}

// klippyLost is notify_klippy_disconnected: the objects are gone, and
// the printer with them.
func (m *moonModel) klippyLost() {
	m.info = serverInfo{KlippyState: "disconnected"}
	m.subscribed, m.lost = false, true
}

// setObjects replaces the objects with a subscribe or query result. A
// print that starts (in this or a diff) has its metadata asked for again:
// its file may be new under an old name.
func (m *moonModel) setObjects(status json.RawMessage) error {
	var o klipperObjects
	if err := json.Unmarshal(status, &o); err != nil {
		return err
	}
	was := m.printing()
	m.objects, m.subscribed = o, true
	if !was && m.printing() {
		m.metaFile = ""
	}
	return nil
}

// mergeObjects merges a notify_status_update diff.
func (m *moonModel) mergeObjects(diff json.RawMessage) error {
	was := m.printing()
	if err := json.Unmarshal(diff, &m.objects); err != nil {
		return err
	}
	if !was && m.printing() {
		m.metaFile = ""
	}
	return nil
}

// printing: print_stats says a print is under way (printing or paused).
func (m *moonModel) printing() bool {
	s := str(deref0(m.objects.PrintStats).State)
	return s == "printing" || s == "paused"
}

// file is the file print_stats names, "" for none.
func (m *moonModel) file() string {
	if ps := m.objects.PrintStats; m.subscribed && ps != nil && ps.Filename != nil {
		return *ps.Filename
	}
	return ""
}

// wantsMetadata reports whether the current file's metadata is yet to be
// asked for (once per file).
func (m *moonModel) wantsMetadata() bool {
	f := m.file()
	return f != "" && f != m.metaFile
}

// setMetadata takes the metadata of file (nil: Moonraker has none).
func (m *moonModel) setMetadata(file string, meta *fileMetadata) {
	m.metaFile, m.meta = file, meta
}

// status is the model as the overlay shows it.
func (m *moonModel) status() Status {
	st := Status{Source: "Moonraker"}
	klippy := m.info.KlippyState
	if !m.info.KlippyConnected {
		klippy = "disconnected"
	}
	if wh := m.objects.Webhooks; m.subscribed && wh != nil && wh.State != nil {
		klippy = *wh.State
	}
	if s, text, notReady := klippyState(klippy); notReady {
		st.State, st.StateText = s, text
		if klippy == "disconnected" && m.lost {
			st.State = StateOffline
		}
		if wh := m.objects.Webhooks; m.subscribed && wh != nil && wh.StateMessage != nil {
			st.Message = firstLine(*wh.StateMessage)
		}
		if m.subscribed {
			st.Temps = m.temps() // a shutdown's temperatures tell why
		}
		return st
	}
	if !m.subscribed {
		st.State, st.StateText = StateConnecting, "Connecting to Moonraker"
		return st
	}
	ps := deref0(m.objects.PrintStats)
	st.State, st.StateText = printState(str(ps.State))
	if st.State == StateError {
		st.Message = firstLine(str(ps.Message))
	}
	if d := deref0(m.objects.DisplayStatus); d.Message != nil {
		st.Display = clean(*d.Message)
	}
	st.Temps = m.temps()
	st.Job = m.job(ps, st.State)
	if st.State == StatePrinting && m.heating(ps) {
		st.StateText = "Heating"
	}
	return st
}

// job is the print: file, progress, time so far and left, layers.
func (m *moonModel) job(ps printStatsObject, state State) Job {
	var j Job
	if j.File = str(ps.Filename); j.File == "" {
		return j
	}
	if p := m.progress(); p != nil {
		pct := *p * 100
		j.Progress = &pct
	}
	j.Elapsed = wholeSeconds(ps.TotalDuration)
	if state == StatePrinting || state == StatePaused {
		j.Left = timeLeft(ps.PrintDuration, m.progress(), m.slicerEstimate())
	}
	if info := ps.Info; info != nil {
		j.Layer, j.Layers = layer(info.CurrentLayer), layer(info.TotalLayer)
	}
	return j
}

// progress is the fraction done, 0-1: by file position between the
// G-code's first and last command when the metadata says where they are
// (Mainsail's "file relative"), else virtual_sdcard's.
func (m *moonModel) progress() *float64 {
	sd := deref0(m.objects.VirtualSDCard)
	if meta := m.meta; meta != nil && m.metaFile == m.file() && sd.FilePosition != nil &&
		meta.GCodeStartByte != nil && meta.GCodeEndByte != nil && *meta.GCodeEndByte > *meta.GCodeStartByte {
		start, end := *meta.GCodeStartByte, *meta.GCodeEndByte
		p := min(max((*sd.FilePosition-start)/(end-start), 0), 1)
		return &p
	}
	if sd.Progress == nil || !finite(*sd.Progress) {
		return nil
	}
	p := min(max(*sd.Progress, 0), 1)
	return &p
}

func (m *moonModel) slicerEstimate() *float64 {
	if m.meta == nil || m.metaFile != m.file() {
		return nil
	}
	return m.meta.EstimatedTime
}

// timeLeft estimates as Mainsail does: from the print time and progress
// (print time / progress - print time) and from the slicer's estimate
// (estimate - print time), the mean of those known. Print time does not
// count heating before the first extrusion or pauses, so neither is known
// before the print proper starts.
func timeLeft(printDuration, progress, slicer *float64) *time.Duration {
	if printDuration == nil || !finite(*printDuration) || *printDuration <= 0 {
		return nil
	}
	pd := *printDuration
	var sum float64
	n := 0
	if progress != nil && *progress > 0 && finite(*progress) {
		sum += pd / *progress - pd
		n++
	}
	if slicer != nil && finite(*slicer) && *slicer > 0 {
		sum += max(*slicer-pd, 0)
		n++
	}
	if n == 0 {
		return nil
	}
	left := sum / float64(n)
	return wholeSeconds(&left)
}

// heating: the print has not extruded yet (print time 0) and a heater is
// on its way up to its target (M190/M109 waiting).
func (m *moonModel) heating(ps printStatsObject) bool {
	if ps.PrintDuration != nil && *ps.PrintDuration > 0 {
		return false
	}
	for _, h := range []*heaterObject{m.objects.Extruder, m.objects.HeaterBed} {
		if h != nil && h.Temperature != nil && h.Target != nil && *h.Target > 0 && *h.Temperature < *h.Target-heatingMargin {
			return true
		}
	}
	return false
}

// temps: the extruder E, the bed B; heaters Klippy has not reported are
// left out.
func (m *moonModel) temps() []Temp {
	var out []Temp
	for _, h := range []struct {
		name string
		obj  *heaterObject
	}{{"E", m.objects.Extruder}, {"B", m.objects.HeaterBed}} {
		if h.obj != nil && h.obj.Temperature != nil && finite(*h.obj.Temperature) {
			// Copies: diffs are decoded into the model's own values, while the
			// status goes to the overlay's goroutine.
			out = append(out, Temp{Name: h.name, Actual: clonePtr(h.obj.Temperature), Target: clonePtr(h.obj.Target)})
		}
	}
	return out
}

// wholeSeconds is seconds as a duration cut to whole seconds (the picture
// shows no less, and statuses then change once a second, not per update);
// negative, absurd or unknown is nil.
func wholeSeconds(s *float64) *time.Duration {
	if s == nil || !finite(*s) {
		return nil
	}
	t := math.Trunc(*s)
	return seconds(&t)
}

func layer(v *float64) *int {
	if v == nil || !finite(*v) || *v < 0 || *v > 1e6 {
		return nil
	}
	n := int(*v)
	return &n
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return clean(s)
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// clonePtr is a new pointer to a copy of *p; nil stays nil.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// deref0 is *p, or the zero value for nil.
func deref0[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
