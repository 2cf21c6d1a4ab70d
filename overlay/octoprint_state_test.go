package overlay

import (
	"encoding/json"
	"testing"
)

func TestStateMapping(t *testing.T) {
	texts := map[string]State{
		"Operational": StateReady, "Printing": StatePrinting, "Printing from SD": StatePrinting,
		"Starting": StatePrinting, "Starting print from SD": StatePrinting, "Sending file to SD": StatePrinting,
		"Transferring file to SD": StatePrinting, "Pausing": StatePausing, "Paused": StatePaused,
		"Resuming": StateResuming, "Cancelling": StateCancelling, "Finishing": StateFinishing,
		"Offline": StateOffline, "Offline after error": StateError, "Error": StateError,
		"Opening serial connection": StateConnecting, "Detecting serial connection": StateConnecting,
		"Connecting": StateConnecting, "Unknown State (99)": StateUnknown, "": StateUnknown,
	}
	for text, want := range texts {
		if got := stateFromText(text); got != want {
			t.Errorf("text %q: %s, want %s", text, got, want)
		}
	}
	ids := map[string]State{
		"OPERATIONAL": StateReady, "PRINTING": StatePrinting, "STARTING": StatePrinting,
		"TRANSFERING_FILE": StatePrinting, "PAUSING": StatePausing, "PAUSED": StatePaused,
		"RESUMING": StateResuming, "CANCELLING": StateCancelling, "FINISHING": StateFinishing,
		"OFFLINE": StateOffline, "CLOSED": StateOffline, "NONE": StateOffline, "ERROR": StateError,
		"CLOSED_WITH_ERROR": StateError, "OPEN_SERIAL": StateConnecting, "DETECT_SERIAL": StateConnecting,
		"CONNECTING": StateConnecting, "UNKNOWN": StateUnknown,
	}
	for id, want := range ids {
		if got := stateFromID(id); got != want {
			t.Errorf("id %q: %s, want %s", id, got, want)
		}
	}
	// Flags win over text; several flags at once: the more specific one.
	flags := []struct {
		js   string
		want State
	}{
		{`{"text":"Operational","flags":{"operational":true,"ready":true}}`, StateReady},
		{`{"text":"Printing","flags":{"operational":true,"printing":true}}`, StatePrinting},
		{`{"text":"Pausing","flags":{"operational":true,"printing":true,"pausing":true}}`, StatePausing},
		{`{"text":"Paused","flags":{"operational":true,"paused":true}}`, StatePaused},
		{`{"text":"Cancelling","flags":{"operational":true,"printing":true,"cancelling":true}}`, StateCancelling},
		{`{"text":"Finishing","flags":{"operational":true,"printing":true,"finishing":true}}`, StateFinishing},
		{`{"text":"Offline","flags":{"closedOrError":true}}`, StateOffline},
		{`{"text":"Offline after error","flags":{"closedOrError":true,"error":true}}`, StateError},
		{`{"text":"Opening serial connection","flags":{}}`, StateConnecting},
	}
	for _, f := range flags {
		var s stateInfo
		if err := json.Unmarshal([]byte(f.js), &s); err != nil {
			t.Fatal(err)
		}
		if got := stateFromFlags(s); got != f.want {
			t.Errorf("%s: %s, want %s", f.js, got, f.want)
		}
	}
}

// push replays socket frames into a model.
func push(t *testing.T, m *octoModel, frames ...string) {
	t.Helper()
	s := &octoPrint{}
	s.model = *m
	for _, f := range frames {
		if _, err := s.handleFrame([]byte(f)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	*m = s.model
}

func stateEvent(id, text string) string {
	return `{"event":{"type":"PrinterStateChanged","payload":{"state_id":"` + id + `","state_string":"` + text + `"}}}`
}

// Frames as OctoPrint 1.11.8 sent them (trimmed) during a print.
func TestModelPush(t *testing.T) {
	var m octoModel
	push(t, &m, `{"connected":{"version":"1.11.8","permissions":[]}}`,
		`{"history":{"state":{"text":"Operational","flags":{"operational":true,"ready":true},"error":""},"job":{"file":{"name":null}},"currentZ":null,"progress":{"completion":null,"printTime":null,"printTimeLeft":null},"temps":[{"time":1,"tool0":{"actual":20.1,"target":0.0},"bed":{"actual":20.2,"target":0.0},"chamber":{"actual":null,"target":null}},{"time":2,"tool0":{"actual":21.3,"target":0.0},"bed":{"actual":21.3,"target":0.0},"chamber":{"actual":null,"target":null}}]}}`)
	st := m.status()
	if st.State != StateReady || st.StateText != "Operational" || len(st.Temps) != 2 || *st.Temps[0].Actual != 21.3 || st.Temps[0].Name != "E" || st.Temps[1].Name != "B" {
		t.Fatalf("after history: %+v", st)
	}
	push(t, &m, `{"event":{"type":"FileSelected","payload":{"name":"t.gcode","path":"t.gcode","origin":"local"}}}`,
		stateEvent("STARTING", "Starting"),
		`{"event":{"type":"PrintStarted","payload":{"name":"t.gcode","path":"t.gcode","origin":"local","size":1836}}}`,
		stateEvent("PRINTING", "Printing"),
		`{"current":{"state":{"text":"Printing","flags":{"operational":true,"printing":true},"error":""},"job":{"file":{"name":"t.gcode","display":"t.gcode"}},"currentZ":0.6,"progress":{"completion":49.1,"printTime":2,"printTimeLeft":3},"temps":[]}}`,
		`{"event":{"type":"DisplayLayerProgress_layerChanged","payload":{"currentLayer":"3","totalLayer":"12"}}}`)
	st = m.status()
	if st.State != StatePrinting || st.Job.File != "t.gcode" || *st.Job.Progress != 49.1 || st.Job.Left.Seconds() != 3 ||
		*st.Job.Z != 0.6 || *st.Job.Layer != 3 || *st.Job.Layers != 12 || len(st.Temps) != 2 {
		t.Fatalf("printing: %+v", st)
	}
	// A held-back "current" from before the end must not undo PrintDone.
	push(t, &m, stateEvent("FINISHING", "Finishing"),
		`{"event":{"type":"PrintDone","payload":{"name":"t.gcode","time":7.09}}}`,
		stateEvent("OPERATIONAL", "Operational"),
		`{"current":{"state":{"text":"Printing","flags":{"operational":true,"printing":true},"error":""},"job":{"file":{"name":"t.gcode"}},"progress":{"completion":95.4,"printTime":6,"printTimeLeft":0},"temps":[]}}`,
		`{"current":{"state":{"text":"Operational","flags":{"operational":true},"error":""},"job":{"file":{"name":"t.gcode"}},"progress":{"completion":100.0,"printTime":7,"printTimeLeft":0},"temps":[]}}`)
	if st = m.status(); st.State != StateComplete || st.StateText != "Finished" || *st.Job.Progress != 100 {
		t.Fatalf("done: %+v", st)
	}
	// Selecting another file ends "Finished".
	push(t, &m, `{"event":{"type":"FileSelected","payload":{"name":"u.gcode"}}}`)
	if st = m.status(); st.State != StateReady || st.Job.File != "u.gcode" || st.Job.Progress != nil {
		t.Fatalf("after selecting another file: %+v", st)
	}
	// Cancel, then the printer fails.
	push(t, &m, stateEvent("PRINTING", "Printing"), stateEvent("CANCELLING", "Cancelling"),
		`{"event":{"type":"PrintCancelled","payload":{"name":"u.gcode"}}}`,
		`{"event":{"type":"PrintFailed","payload":{"name":"u.gcode","reason":"cancelled"}}}`,
		stateEvent("OPERATIONAL", "Operational"))
	if st = m.status(); st.State != StateCancelled || st.StateText != "Cancelled" {
		t.Fatalf("cancelled: %+v", st)
	}
	push(t, &m, `{"event":{"type":"Error","payload":{"error":"MAXTEMP triggered!"}}}`,
		stateEvent("CLOSED_WITH_ERROR", "Offline after error"))
	if st = m.status(); st.State != StateError || st.StateText != "Printer offline after error" || st.Message != "MAXTEMP triggered!" {
		t.Fatalf("error: %+v", st)
	}
	push(t, &m, stateEvent("OFFLINE", "Offline"))
	if st = m.status(); st.State != StateOffline || st.StateText != "Printer offline" || st.Message != "" {
		t.Fatalf("offline: %+v", st)
	}
}

// Polling sees no events: how a print ended comes from the states.
func TestModelPoll(t *testing.T) {
	job := func(state string, completion float64) *jobReply {
		r, err := parseJob([]byte(`{"job":{"file":{"name":"p.gcode","display":"p.gcode"}},"progress":{"completion":` +
			jsonNum(completion) + `,"printTime":10,"printTimeLeft":null},"state":"` + state + `"}`))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		name  string
		steps []*jobReply
		want  State
	}{
		{"done", []*jobReply{job("Printing", 50), job("Printing", 99.5), job("Operational", 100)}, StateComplete},
		{"done via finishing", []*jobReply{job("Printing", 98), job("Finishing", 100), job("Operational", 100)}, StateComplete},
		{"cancelled", []*jobReply{job("Printing", 50), job("Cancelling", 51), job("Operational", 51)}, StateCancelled},
		{"cancelled, missed cancelling", []*jobReply{job("Printing", 50), job("Operational", 52)}, StateCancelled},
		{"never printed", []*jobReply{job("Operational", 0)}, StateReady},
		{"paused", []*jobReply{job("Printing", 50), job("Paused", 50)}, StatePaused},
	}
	for _, tt := range tests {
		var m octoModel
		for _, r := range tt.steps {
			m.applyJob(r)
		}
		if st := m.status(); st.State != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, st.State, tt.want)
		}
	}
	var m octoModel
	pr, err := parsePrinter([]byte(`{"temperature":{"tool1":{"actual":200.0,"target":205.0,"offset":0},"tool0":{"actual":210.0,"target":210.0,"offset":0},"bed":{"actual":60.0,"target":60.0,"offset":0},"chamber":{"actual":30.0,"target":null}},"state":{"text":"Printing","flags":{"operational":true,"printing":true}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.applyPrinter(pr); err != nil {
		t.Fatal(err)
	}
	if got := temps(m.status().Temps); got != "E0 210/210°C E1 200/205°C B 60/60°C C 30°C" {
		t.Errorf("temps %q", got)
	}
	if err := m.applyPrinter(nil); err != nil || m.status().Temps != nil {
		t.Errorf("a 409 (no printer) must clear the temperatures: %+v", m.status().Temps)
	}
}

func jsonNum(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}
