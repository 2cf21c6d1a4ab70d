package overlay

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/pipcam/pipcam/configs"
)

// checkShown renders st with the default template and checks what the
// picture would get.
func checkShown(t *testing.T, st Status) {
	t.Helper()
	tt, err := newTextTemplate(configs.DefaultOverlayText, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	text, err := tt.render(st)
	if err != nil {
		t.Fatalf("default template on %+v: %v", st, err)
	}
	if len(text) > MaxText || !utf8.ValidString(text) {
		t.Fatalf("text not fit for the picture: %q", text)
	}
	if strings.IndexFunc(text, func(r rune) bool { return r != '\n' && unicode.IsControl(r) }) >= 0 {
		t.Fatalf("control character in %q", text)
	}
	if p := st.progress(); p != -1 && (p < 0 || p > 1) {
		t.Fatalf("progress %v", p)
	}
	if _, err := json.Marshal(st); err != nil {
		t.Fatalf("status JSON: %v", err)
	}
}

// FuzzPushFrame feeds socket frames (raw and SockJS-framed) through the
// parser and the model.
func FuzzPushFrame(f *testing.F) {
	for _, s := range []string{
		`{"history":{"state":{"text":"Operational","flags":{"operational":true}},"job":{"file":{"name":null}},"progress":{"completion":null},"temps":[{"time":1,"tool0":{"actual":21.3,"target":0.0},"bed":{"actual":21.3,"target":null},"chamber":{"actual":null,"target":null}}]}}`,
		`{"current":{"state":{"text":"Printing","flags":{"printing":true}},"job":{"file":{"name":"t.gcode","display":"t.gcode"}},"currentZ":0.6,"progress":{"completion":49.1,"printTime":2,"printTimeLeft":3},"temps":[]}}`,
		`{"event":{"type":"PrinterStateChanged","payload":{"state_id":"PAUSED","state_string":"Paused"}}}`,
		`{"event":{"type":"PrintDone","payload":{"name":"t.gcode","time":7.09}}}`,
		`{"event":{"type":"DisplayLayerProgress_layerChanged","payload":{"currentLayer":"3","totalLayer":"-"}}}`,
		`{"event":{"type":"Error","payload":{"error":"MAXTEMP\u0007 triggered!"}}}`,
		`{"reauthRequired":{"reason":"stale"}}`,
		`a["{\"current\":{\"progress\":{\"printTimeLeft\":1e300}}}"]`,
		"o", "h", `c[3000,"Go away!"]`, `{"current":{"temps":[{"tool99":{"actual":-1e9}}]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &octoPrint{}
		s.model.setState(StatePrinting, "Printing", "")
		_, _ = s.handleFrame(data)
		checkShown(t, s.model.status())
	})
}

// FuzzRESTReplies feeds /api/job, /api/printer and /api/login replies.
func FuzzRESTReplies(f *testing.F) {
	f.Add([]byte(`{"job":{"file":{"name":"p.gcode","display":"p.gcode"}},"progress":{"completion":42.4,"printTime":10,"printTimeLeft":4320},"state":"Printing","error":""}`),
		[]byte(`{"temperature":{"tool0":{"actual":210.0,"target":210.0,"offset":0},"bed":{"actual":60.0,"target":60.0}},"state":{"text":"Printing","flags":{"printing":true}}}`),
		[]byte(`{"name":"pipcam","session":"ae41"}`))
	f.Add([]byte(`{"state":"Offline after error","error":"Serial timeout"}`), []byte(`{"error":"Printer is not operational"}`), []byte(`{}`))
	f.Add([]byte(`{"state":"Printing","progress":{"completion":"NaN"}}`), []byte(`{"temperature":{"tool0":null}}`), []byte(`garbage`))
	f.Fuzz(func(t *testing.T, job, printer, login []byte) {
		var m octoModel
		if r, err := parseJob(job); err == nil {
			m.applyJob(r)
		}
		if r, err := parsePrinter(printer); err == nil {
			_ = m.applyPrinter(r)
		}
		if r, err := parseLogin(login); err == nil && (r.Name == "" || r.Session == "") {
			t.Fatalf("login accepted without a session: %+v", r)
		}
		checkShown(t, m.status())
	})
}

// FuzzMoonrakerMessage feeds websocket messages (replies and
// notifications) through the parser into a model in mid-print.
func FuzzMoonrakerMessage(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","result":{"eventtime":5055.4,"status":{"webhooks":{"state":"ready","state_message":"Printer is ready"},"print_stats":{"filename":"","total_duration":0.0,"print_duration":0.0,"state":"standby","message":"","info":{"total_layer":null,"current_layer":null}},"virtual_sdcard":{"progress":0.0,"file_position":0},"display_status":{"progress":0.0,"message":null},"extruder":{"temperature":25.0,"target":0.0},"heater_bed":{"temperature":25.0,"target":0.0}}},"id":3}`,
		`{"jsonrpc":"2.0","method":"notify_status_update","params":[{"print_stats":{"filename":"t.gcode","total_duration":0.08,"state":"printing"},"virtual_sdcard":{"progress":0.0197,"file_position":97},"extruder":{"target":200.0}},5056.1]}`,
		`{"jsonrpc":"2.0","method":"notify_status_update","params":[{"print_stats":{"print_duration":1e300,"info":{"total_layer":5,"current_layer":-2}},"display_status":{"message":"M117\u0007 bell"}}]}`,
		`{"jsonrpc":"2.0","method":"notify_status_update","params":[{"webhooks":{"state":"shutdown","state_message":"HOST temperature 300.0 above maximum\nline two"}},1]}`,
		`{"jsonrpc":"2.0","method":"notify_klippy_disconnected"}`,
		`{"jsonrpc":"2.0","method":"notify_proc_stat_update","params":[{"moonraker_stats":{"cpu_usage":1.54}}]}`,
		`{"jsonrpc":"2.0","error":{"code":-32602,"message":"Unauthorized"},"id":1}`,
		`{"jsonrpc":"2.0","method":"notify_status_update","params":"x"}`, `[]`, `{}`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &moonraker{}
		s.model.setInfo(serverInfo{KlippyConnected: true, KlippyState: "ready"})
		if err := s.model.setObjects(json.RawMessage(`{"print_stats":{"state":"printing","filename":"a.gcode","print_duration":10}}`)); err != nil {
			t.Fatal(err)
		}
		s.model.setMetadata("a.gcode", &fileMetadata{EstimatedTime: ptr(100.0), GCodeStartByte: ptr(10.0), GCodeEndByte: ptr(1000.0)})
		m, err := parseRPC(data)
		switch {
		case err != nil:
		case m.ID != nil && m.Error != nil:
			_ = rpcFailure("x", m.Error)
		case m.ID != nil:
			var res objectsResult
			if json.Unmarshal(m.Result, &res) == nil && len(res.Status) > 0 {
				_ = s.model.setObjects(res.Status)
			}
		default:
			_ = s.note(m)
		}
		checkShown(t, s.model.status())
	})
}

// FuzzMoonrakerReplies feeds the HTTP replies of polling: server.info,
// objects/query and the file metadata.
func FuzzMoonrakerReplies(f *testing.F) {
	f.Add([]byte(`{"result":{"klippy_connected":true,"klippy_state":"ready","moonraker_version":"0.11.0"}}`),
		[]byte(`{"result":{"eventtime":1,"status":{"webhooks":{"state":"ready"},"print_stats":{"filename":"t.gcode","state":"paused","print_duration":12.5,"total_duration":20},"virtual_sdcard":{"progress":0.3,"file_position":300}}}}`),
		[]byte(`{"result":{"estimated_time":20.0,"gcode_start_byte":77,"gcode_end_byte":4914,"layer_count":5}}`))
	f.Add([]byte(`{"result":{"klippy_connected":false,"klippy_state":"disconnected"}}`), []byte(`{"error":{"code":503}}`), []byte(`{"result":null}`))
	f.Add([]byte(`{"result":{"klippy_state":7}}`), []byte(`{"result":{"status":{"extruder":{"temperature":"hot"}}}}`), []byte(`{"result":{"gcode_end_byte":-1,"gcode_start_byte":1e308}}`))
	f.Fuzz(func(t *testing.T, info, objects, meta []byte) {
		var m moonModel
		var si serverInfo
		if res, err := httpResult("info", info); err == nil && json.Unmarshal(res, &si) == nil {
			m.setInfo(si)
		}
		var or objectsResult
		if res, err := httpResult("objects", objects); err == nil && json.Unmarshal(res, &or) == nil && len(or.Status) > 0 {
			_ = m.setObjects(or.Status)
		}
		md := new(fileMetadata)
		if res, err := httpResult("metadata", meta); err == nil && json.Unmarshal(res, md) == nil {
			m.setMetadata(m.file(), md)
		}
		checkShown(t, m.status())
	})
}
