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
