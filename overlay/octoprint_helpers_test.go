package overlay

import (
	"bytes"
	"context"
	"log/slog"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/pipcam/pipcam/configs"
	"github.com/pipcam/pipcam/internal/octoprinttest"
)

// shared is the one real OctoPrint the tests use, one after another.
var shared struct {
	once sync.Once
	srv  *octoprinttest.Server
	err  error
}

// octo returns the shared OctoPrint, started on first use. A machine
// without Python or its venv module fails here, naming what to install.
func octo(t *testing.T) *octoprinttest.Server {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a real OctoPrint; not with -short")
	}
	shared.once.Do(func() {
		// The first run installs OctoPrint into the cached venv.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		shared.srv, shared.err = octoprinttest.Start(ctx, octoprinttest.Options{})
	})
	if shared.err != nil {
		t.Fatalf("OctoPrint: %v", shared.err)
	}
	return shared.srv
}

func closeShared() {
	if shared.srv != nil {
		_ = shared.srv.Close()
	}
}

// ready brings the shared OctoPrint to Operational: running, printer
// connected, no print.
func ready(t *testing.T, srv *octoprinttest.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	j, err := srv.Job(ctx)
	if err != nil {
		_ = srv.Thaw()
		if err := srv.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		j, err = srv.Job(ctx)
		if err != nil {
			t.Fatal(err)
		}
	}
	switch j.State {
	case "Operational":
		return
	case "Printing", "Paused", "Pausing", "Resuming", "Starting":
		if err := srv.Cancel(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := srv.WaitState(ctx, "Operational"); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err := srv.Connect(ctx); err != nil {
		t.Fatal(err)
	}
}

// printerConfig points the default config at OctoPrint.
func printerConfig(url string, key string, transport configs.PrinterTransport) *configs.Config {
	cfg := configs.Default()
	cfg.Printer = configs.Printer{Type: configs.PrinterOctoPrint, URL: url, APIKey: configs.Secret(key), Transport: transport}
	return cfg
}

// logBuffer keeps the overlay's log for checks and shows it on failure.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// startOverlay runs an overlay on cfg for the test; its log is kept in
// the returned buffer and shown if the test fails.
func startOverlay(t *testing.T, cfg *configs.Config, sink Sink) (*Overlay, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	o, err := New(context.Background(), cfg, sink, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		o.Close()
		if t.Failed() {
			t.Logf("overlay log:\n%s", logs)
		}
	})
	return o, logs
}

// follow readies OctoPrint and starts an overlay on it, returning once
// the overlay shows Operational.
func follow(t *testing.T, srv *octoprinttest.Server, cfg *configs.Config) (*Overlay, *recordSink) {
	t.Helper()
	return followServer(t, func(t *testing.T) { ready(t, srv) }, cfg, "Operational")
}

// startPrint uploads a print of about d as file and starts it, returning
// the start once the sink shows Printing.
func startPrint(t *testing.T, ctx context.Context, srv *octoprinttest.Server, sink *recordSink, file string, d time.Duration) time.Time {
	t.Helper()
	return startPrintOn(t, ctx, srv, sink, file, octoprinttest.GCode(d), "Printing")
}

func transports() []configs.PrinterTransport {
	return []configs.PrinterTransport{configs.TransportPush, configs.TransportPoll}
}

func p50(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
