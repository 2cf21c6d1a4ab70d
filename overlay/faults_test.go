package overlay

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/pipcam/pipcam/configs"
)

// The overlay must say what is wrong within this long.
const faultDeadline = 3 * time.Second

// recoverDeadline covers the longest backoff (10 s) and a reconnect.
const recoverDeadline = 15 * time.Second

// A wrong API key shows as rejected, and is never logged or reported; a
// corrected key file is read on the next attempt and the overlay recovers.
func TestWrongKey(t *testing.T) {
	for _, target := range servers {
		t.Run(target.name, func(t *testing.T) {
			ft := target.start(t)
			for _, tr := range transports() {
				t.Run(string(tr), func(t *testing.T) { wrongKey(t, ft, tr) })
			}
		})
	}
}

func wrongKey(t *testing.T, ft server, tr configs.PrinterTransport) {
	ft.ready(t)
	const wrong = "0123456789abcdef0123456789abcdef"
	keyFile := filepath.Join(t.TempDir(), "printer.key")
	if err := os.WriteFile(keyFile, []byte(wrong+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := ft.config(ft.url, tr)
	cfg.Printer.APIKey, cfg.Printer.APIKeyFile = "", keyFile
	sink := newRecordSink()
	start := time.Now()
	o, logs := startOverlay(t, cfg, sink)
	sink.waitText(t, faultDeadline, start, "key rejected", prefix(ft.name+": API key rejected"))

	if err := os.WriteFile(keyFile, []byte(ft.key), 0o600); err != nil {
		t.Fatal(err)
	}
	sink.waitText(t, recoverDeadline, time.Now(), ft.idle, prefix(ft.idle))

	report, err := json.Marshal(o.Report())
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{wrong, ft.key} {
		if strings.Contains(logs.String(), key) || strings.Contains(string(report), key) || strings.Contains(strings.Join(sink.Texts(), "\n"), key) {
			t.Errorf("an API key shows in the log, the report or the text")
		}
	}
	if !strings.Contains(logs.String(), "API key rejected") {
		t.Errorf("the log does not say the key was rejected:\n%s", logs)
	}
}

// OctoPrint killed mid-print: offline within 3 s, then, once it is back,
// the overlay recovers by itself (the restarted OctoPrint has the printer
// disconnected) and the print is reported failed.
func TestOctoPrintKilled(t *testing.T) {
	srv := octo(t)
	for _, tr := range transports() {
		t.Run(string(tr), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			o, sink := follow(t, srv, printerConfig(srv.URL, srv.APIKey, tr))
			kinds := collectEvents(o)
			startPrint(t, ctx, srv, sink, "killed.gcode", time.Minute)

			kill := seeKilled(t, o, sink, srv.Kill, "OctoPrint offline")

			if err := srv.Restart(ctx); err != nil {
				t.Fatal(err)
			}
			up := time.Now()
			// Since the kill: the overlay may read the restarted OctoPrint
			// before Restart has seen it answer.
			s := sink.waitText(t, recoverDeadline, kill, "printer offline", prefix("Printer offline"))
			t.Logf("restarted → %q %v after Restart returned", s.text, s.at.Sub(up).Round(time.Millisecond))
			if err := srv.Connect(ctx); err != nil {
				t.Fatal(err)
			}
			sink.waitText(t, faultDeadline, up, "Operational", prefix("Operational"))
			if got := strings.Join(kinds(), " "); got != "started failed" {
				t.Errorf("events %q", got)
			}
		})
	}
}

// A hung OctoPrint (it accepts connections and answers nothing) shows as
// offline within 3 s, on an open socket too, and the overlay recovers when
// it answers again.
func TestOctoPrintHung(t *testing.T) {
	srv := octo(t)
	for _, tr := range transports() {
		t.Run(string(tr), func(t *testing.T) {
			_, sink := follow(t, srv, printerConfig(srv.URL, srv.APIKey, tr))
			freeze := time.Now()
			if err := srv.Freeze(); err != nil {
				t.Fatal(err)
			}
			defer srv.Thaw()
			s := sink.waitText(t, faultDeadline, freeze, "offline", prefix("OctoPrint offline"))
			t.Logf("frozen → %q after %v", s.text, s.at.Sub(freeze).Round(time.Millisecond))
			if err := srv.Thaw(); err != nil {
				t.Fatal(err)
			}
			sink.waitText(t, recoverDeadline, time.Now(), "Operational", prefix("Operational"))
		})
	}
}

// faultProxy stands in front of the real OctoPrint and misbehaves as told.
type faultProxy struct {
	URL     string
	mode    atomic.Value // string: pass, garbage, 500, 503, hang, socket-garbage, no-socket
	release chan struct{}
	proxy   *httputil.ReverseProxy
}

func newFaultProxy(t *testing.T, target string, mode string) *faultProxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	f := &faultProxy{release: make(chan struct{}), proxy: httputil.NewSingleHostReverseProxy(u)}
	f.setMode(mode)
	ts := httptest.NewServer(f)
	f.URL = ts.URL
	t.Cleanup(func() {
		close(f.release) // hanging handlers return, so Close does not wait on them
		ts.Close()
	})
	return f
}

func (f *faultProxy) setMode(m string) { f.mode.Store(m) }

func (f *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mode := f.mode.Load().(string)
	socket := strings.HasPrefix(r.URL.Path, "/sockjs/") || r.URL.Path == "/websocket" // OctoPrint's, Moonraker's
	switch {
	case mode == "garbage":
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"state": "Printing", "job": {"file": `))
	case mode == "500":
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
	case mode == "503":
		http.Error(w, "503 Service Unavailable", http.StatusServiceUnavailable) // haproxy, OctoPrint down
	case mode == "hang":
		select {
		case <-r.Context().Done():
		case <-f.release:
		}
	case mode == "no-socket" && socket:
		http.NotFound(w, r) // a proxy that does not pass websockets
	case mode == "socket-garbage" && socket:
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if r.URL.Path == "/websocket" {
			// Moonraker: the reply to identify is cut short.
			_, _, _ = c.Read(ctx)
			_ = c.Write(ctx, websocket.MessageText, []byte(`{"jsonrpc":"2.0","id":1,"result":{"connection_id":`))
		} else {
			_ = c.Write(ctx, websocket.MessageText, []byte(`{"connected":{}}`))
			_ = c.Write(ctx, websocket.MessageText, []byte(`{"history":{"state":"Operational"}}`))
		}
		_, _, _ = c.Read(ctx)
	default:
		f.proxy.ServeHTTP(w, r)
	}
}

// Servers that fail in each way: the right text within 3 s, then
// recovery once the server behaves.
func TestFaultServers(t *testing.T) {
	for _, target := range servers {
		t.Run(target.name, func(t *testing.T) { faultServers(t, target.start(t)) })
	}
}

func faultServers(t *testing.T, ft server) {
	tests := []struct {
		mode       string
		transports []configs.PrinterTransport
		want       string
	}{
		{"garbage", transports(), ft.name + ": bad reply"},
		{"500", transports(), ft.name + ": bad reply"},
		{"503", transports(), ft.name + " offline"},
		{"hang", transports(), ft.name + " offline"},
		{"socket-garbage", []configs.PrinterTransport{configs.TransportPush}, ft.name + ": bad reply"},
	}
	for _, tt := range tests {
		for _, tr := range tt.transports {
			t.Run(tt.mode+"/"+string(tr), func(t *testing.T) {
				ft.ready(t)
				proxy := newFaultProxy(t, ft.url, tt.mode)
				sink := newRecordSink()
				start := time.Now()
				startOverlay(t, ft.config(proxy.URL, tr), sink)
				s := sink.waitText(t, faultDeadline, start, tt.want, prefix(tt.want))
				t.Logf("%q after %v", s.text, s.at.Sub(start).Round(time.Millisecond))
				proxy.setMode("pass")
				sink.waitText(t, recoverDeadline, time.Now(), ft.idle, prefix(ft.idle))
			})
		}
	}
}

// transport auto: where the socket cannot be used, it polls, and tries
// the socket again after pushRetry.
func TestAutoFallsBackToPoll(t *testing.T) {
	for _, target := range servers {
		t.Run(target.name, func(t *testing.T) {
			ft := target.start(t)
			ft.ready(t)
			proxy := newFaultProxy(t, ft.url, "no-socket")
			sink := newRecordSink()
			logs := &logBuffer{}
			timing := defaultTiming
			timing.pushRetry = 2 * time.Second
			o, err := newOverlay(context.Background(), ft.config(proxy.URL, configs.TransportAuto), sink,
				slog.New(slog.NewTextHandler(logs, nil)), deps{getenv: os.Getenv, now: time.Now, timing: timing})
			if err != nil {
				t.Fatal(err)
			}
			defer o.Close()
			sink.waitText(t, faultDeadline, time.Time{}, ft.idle, prefix(ft.idle))
			if r := o.Report(); r.Link.Transport != "poll" || !r.Link.Connected {
				t.Errorf("link %+v", r.Link)
			}
			if !strings.Contains(logs.String(), "push socket cannot be used") {
				t.Errorf("the fall-back is not logged:\n%s", logs)
			}
			// The socket works again: auto goes back to it.
			proxy.setMode("pass")
			eventually(t, recoverDeadline, "the push socket again", func() bool { return o.Report().Link.Transport == "push" })
			for _, text := range sink.Texts() {
				if strings.HasPrefix(text, ft.name) {
					t.Errorf("switching transports showed %q", text)
				}
			}
		})
	}
}
