package overlay

import (
	"encoding/json"
	"testing"
	"time"
)

func TestKlipperStateMapping(t *testing.T) {
	klippy := []struct {
		in       string
		want     State
		text     string
		notReady bool
	}{
		{"ready", "", "", false},
		{"startup", StateConnecting, "Klippy not ready", true},
		{"shutdown", StateError, "Klippy shutdown", true},
		{"error", StateError, "Klippy error", true},
		{"disconnected", StateConnecting, "Klippy disconnected", true},
		{"", StateConnecting, "Klippy disconnected", true},
		{"initializing", StateUnknown, "Klippy initializing", true},
	}
	for _, tt := range klippy {
		s, text, notReady := klippyState(tt.in)
		if s != tt.want || text != tt.text || notReady != tt.notReady {
			t.Errorf("klippy %q: %q %q %v, want %q %q %v", tt.in, s, text, notReady, tt.want, tt.text, tt.notReady)
		}
	}
	prints := []struct {
		in   string
		want State
		text string
	}{
		{"standby", StateReady, "Standby"},
		{"printing", StatePrinting, "Printing"},
		{"paused", StatePaused, "Paused"},
		{"complete", StateComplete, "Complete"},
		{"cancelled", StateCancelled, "Cancelled"},
		{"error", StateError, "Print failed"},
		{"", StateConnecting, "Connecting to Moonraker"},
		{"flying", StateUnknown, "flying"},
	}
	for _, tt := range prints {
		if s, text := printState(tt.in); s != tt.want || text != tt.text {
			t.Errorf("print %q: %q %q, want %q %q", tt.in, s, text, tt.want, tt.text)
		}
	}
}

func TestTimeLeft(t *testing.T) {
	sec := func(s float64) *time.Duration { d := time.Duration(s * float64(time.Second)); return &d }
	tests := []struct {
		name                    string
		duration, progress, est *float64
		want                    *time.Duration
	}{
		{"from progress", ptr(100.0), ptr(0.25), nil, sec(300)},
		{"from the slicer", ptr(100.0), nil, ptr(400.0), sec(300)},
		{"mean of both", ptr(100.0), ptr(0.5), ptr(500.0), sec(250)}, // (100 + 400) / 2
		{"slicer overrun is 0", ptr(600.0), nil, ptr(500.0), sec(0)},
		{"heating: no print time", ptr(0.0), ptr(0.01), ptr(500.0), nil},
		{"no progress yet", ptr(10.0), ptr(0.0), nil, nil},
		{"unknown print time", nil, ptr(0.5), ptr(500.0), nil},
		{"cut to seconds", ptr(10.0), ptr(0.3), nil, sec(23)}, // 23.33
	}
	for _, tt := range tests {
		got := timeLeft(tt.duration, tt.progress, tt.est)
		switch {
		case (got == nil) != (tt.want == nil):
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		case got != nil && *got != *tt.want:
			t.Errorf("%s: %v, want %v", tt.name, *got, *tt.want)
		}
	}
}

// replay feeds websocket messages into a model as the push session does.
func replay(t *testing.T, m *moonModel, msgs ...string) {
	t.Helper()
	s := &moonraker{model: *m}
	for _, msg := range msgs {
		r, err := parseRPC([]byte(msg))
		if err != nil {
			t.Fatalf("%s: %v", msg, err)
		}
		switch {
		case r.ID != nil:
			var res objectsResult
			if err := json.Unmarshal(r.Result, &res); err != nil {
				t.Fatal(err)
			}
			if err := s.model.setObjects(res.Status); err != nil {
				t.Fatal(err)
			}
		default:
			if err := s.note(r); err != nil {
				t.Fatalf("%s: %v", msg, err)
			}
		}
	}
	*m = s.model
}

func notify(diff string) string {
	return `{"jsonrpc":"2.0","method":"notify_status_update","params":[` + diff + `,5056.1]}`
}

// Messages as Moonraker 0.11.0 sent them (trimmed) during a print.
func TestMoonrakerModel(t *testing.T) {
	m := moonModel{info: serverInfo{KlippyConnected: true, KlippyState: "ready"}}
	replay(t, &m, `{"jsonrpc":"2.0","result":{"eventtime":5055.4,"status":{"webhooks":{"state":"ready","state_message":"Printer is ready"},"print_stats":{"filename":"","total_duration":0.0,"print_duration":0.0,"filament_used":0.0,"state":"standby","message":"","info":{"total_layer":null,"current_layer":null}},"virtual_sdcard":{"progress":0.0,"file_position":0},"display_status":{"progress":0.0,"message":null},"extruder":{"temperature":25.0,"target":0.0},"heater_bed":{"temperature":25.0,"target":0.0}}},"id":3}`)
	st := m.status()
	if st.State != StateReady || st.StateText != "Standby" || temps(st.Temps) != "E 25°C B 25°C" || st.Job.File != "" || st.Job.Progress != nil {
		t.Fatalf("standby: %+v", st)
	}
	replay(t, &m, notify(`{"print_stats":{"filename":"t.gcode","total_duration":0.08,"state":"printing"},"virtual_sdcard":{"progress":0.0197,"file_position":97},"display_status":{"progress":0.0197},"extruder":{"target":200.0},"heater_bed":{"target":60.0}}`),
		notify(`{"print_stats":{"total_duration":1.83},"extruder":{"temperature":73.0},"heater_bed":{"temperature":60.0}}`))
	if !m.wantsMetadata() {
		t.Fatal("a new file: no metadata asked for")
	}
	m.setMetadata("t.gcode", &fileMetadata{EstimatedTime: ptr(20.0), GCodeStartByte: ptr(77.0), GCodeEndByte: ptr(4877.0)})
	st = m.status()
	if st.State != StatePrinting || st.StateText != "Heating" || st.Job.File != "t.gcode" || *st.Job.Progress != 100*(97.0-77)/(4877-77) ||
		st.Job.Left != nil || st.Job.Elapsed.Seconds() != 1 || temps(st.Temps) != "E 73/200°C B 60/60°C" {
		t.Fatalf("heating: %+v", st)
	}
	replay(t, &m, notify(`{"print_stats":{"total_duration":12.7,"print_duration":10.2,"info":{"total_layer":5,"current_layer":2}},"virtual_sdcard":{"progress":0.52,"file_position":2477},"extruder":{"temperature":200.0}}`),
		`{"jsonrpc":"2.0","method":"notify_proc_stat_update","params":[{"moonraker_stats":{"time":1795737031.0,"cpu_usage":1.54}}]}`,
		notify(`{"display_status":{"message":"pipcam test print"}}`))
	st = m.status()
	// File relative: (2477-77)/(4877-77) = 50%; left: mean of 10/0.5-10 = 10 and 20-10 = 10.
	if st.StateText != "Printing" || *st.Job.Progress != 50 || st.Job.Left.Seconds() != 10 || *st.Job.Layer != 2 || *st.Job.Layers != 5 ||
		st.Display != "pipcam test print" || st.Message != "" {
		t.Fatalf("printing: %+v", st)
	}
	replay(t, &m, notify(`{"print_stats":{"state":"paused"}}`))
	if st = m.status(); st.State != StatePaused || st.Job.Left == nil {
		t.Fatalf("paused: %+v", st)
	}
	replay(t, &m, notify(`{"print_stats":{"state":"complete","print_duration":20.1},"virtual_sdcard":{"progress":1.0,"file_position":4914}}`))
	if st = m.status(); st.State != StateComplete || st.StateText != "Complete" || *st.Job.Progress != 100 || st.Job.Left != nil {
		t.Fatalf("complete: %+v", st)
	}
	// The same name printed again (re-sliced, uploaded over the old
	// file): its metadata is asked for again.
	replay(t, &m, notify(`{"print_stats":{"state":"printing"}}`))
	if !m.wantsMetadata() {
		t.Error("a new print of the same file: no metadata asked for")
	}
	m.setMetadata("t.gcode", &fileMetadata{EstimatedTime: ptr(20.0), GCodeStartByte: ptr(77.0), GCodeEndByte: ptr(4877.0)})
	replay(t, &m, notify(`{"print_stats":{"state":"complete"}}`))
	// Shutdown: the first line of the message, temperatures kept.
	replay(t, &m, notify(`{"webhooks":{"state":"shutdown","state_message":"HOST temperature 300.0 above maximum temperature of 280.0.\nOnce the underlying issue is corrected, use the\n\"FIRMWARE_RESTART\" command\n"},"extruder":{"temperature":300.0}}`),
		`{"jsonrpc":"2.0","method":"notify_klippy_shutdown"}`)
	if st = m.status(); st.State != StateError || st.StateText != "Klippy shutdown" ||
		st.Message != "HOST temperature 300.0 above maximum temperature of 280.0." || temps(st.Temps) != "E 300/200°C B 60/60°C" {
		t.Fatalf("shutdown: %+v", st)
	}
	replay(t, &m, `{"jsonrpc":"2.0","method":"notify_klippy_disconnected"}`)
	if st = m.status(); st.State != StateOffline || st.StateText != "Klippy disconnected" || st.Temps != nil || st.Message != "" {
		t.Fatalf("disconnected: %+v", st)
	}
	// Still gone when asked: offline; a new session (Moonraker back) that
	// finds no Klippy does not know what happened: connecting.
	m.setInfo(serverInfo{KlippyState: "disconnected"})
	if st = m.status(); st.State != StateOffline {
		t.Fatalf("still disconnected: %+v", st)
	}
	m.newSession()
	m.setInfo(serverInfo{KlippyState: "disconnected"})
	if st = m.status(); st.State != StateConnecting || st.StateText != "Klippy disconnected" {
		t.Fatalf("disconnected, new session: %+v", st)
	}
	m.setInfo(serverInfo{KlippyConnected: true, KlippyState: "startup"})
	if st = m.status(); st.State != StateConnecting || st.StateText != "Klippy not ready" {
		t.Fatalf("startup: %+v", st)
	}
	// A print error (Klippy stays ready) says why.
	m.setInfo(serverInfo{KlippyConnected: true, KlippyState: "ready"})
	replay(t, &m, `{"jsonrpc":"2.0","result":{"status":{"webhooks":{"state":"ready"},"print_stats":{"filename":"t.gcode","state":"error","message":"Move out of range: 0.000 0.000 400.000 [0.000]"}}},"id":9}`)
	if st = m.status(); st.State != StateError || st.StateText != "Print failed" || st.Message != "Move out of range: 0.000 0.000 400.000 [0.000]" {
		t.Fatalf("print error: %+v", st)
	}
}

// Without the file's metadata, progress is virtual_sdcard's and time left
// comes from it alone.
func TestMoonrakerModelNoMetadata(t *testing.T) {
	m := moonModel{info: serverInfo{KlippyConnected: true, KlippyState: "ready"}}
	replay(t, &m, `{"jsonrpc":"2.0","result":{"status":{"webhooks":{"state":"ready"},"print_stats":{"filename":"sub/dir/x.gcode","state":"printing","print_duration":30.0,"total_duration":35.9},"virtual_sdcard":{"progress":0.25,"file_position":1000}}},"id":3}`)
	m.setMetadata("sub/dir/x.gcode", nil)
	st := m.status()
	if *st.Job.Progress != 25 || st.Job.Left.Seconds() != 90 || st.Job.Elapsed.Seconds() != 35 || st.Temps != nil {
		t.Fatalf("%+v", st)
	}
	if m.wantsMetadata() {
		t.Error("metadata asked for twice")
	}
}

// A status handed out does not change with the model: the overlay reads
// it on another goroutine while the next diff is decoded.
func TestMoonrakerStatusIsACopy(t *testing.T) {
	m := moonModel{info: serverInfo{KlippyConnected: true, KlippyState: "ready"}}
	replay(t, &m, `{"jsonrpc":"2.0","result":{"status":{"webhooks":{"state":"ready"},"print_stats":{"state":"printing","filename":"a.gcode","total_duration":5,"info":{"total_layer":3,"current_layer":1}},"virtual_sdcard":{"progress":0.1},"extruder":{"temperature":100.0,"target":200.0}}},"id":3}`)
	before := m.status()
	replay(t, &m, notify(`{"print_stats":{"total_duration":6,"info":{"current_layer":2}},"virtual_sdcard":{"progress":0.2},"extruder":{"temperature":150.0,"target":210.0}}`))
	if *before.Temps[0].Actual != 100 || *before.Temps[0].Target != 200 || *before.Job.Layer != 1 || *before.Job.Progress != 10 || before.Job.Elapsed.Seconds() != 5 {
		t.Errorf("the status changed with the model: %+v %+v", before.Job, before.Temps[0])
	}
}
