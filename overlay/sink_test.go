package overlay

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/pipcam/pipcam/configs"
)

func TestMain(m *testing.M) {
	code := m.Run()
	closeShared()
	closeMoon()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			os.Stderr.WriteString("goroutines left after the tests: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}

// recordSink stands in for the graph: it keeps every call, with its time.
type recordSink struct {
	mu       sync.Mutex
	texts    []shown
	progress []float64
	fail     error // returned (once) by the next call
	changed  chan struct{}
}

type shown struct {
	text string
	at   time.Time
}

func newRecordSink() *recordSink { return &recordSink{changed: make(chan struct{}, 1)} }

func (r *recordSink) SetText(s string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.fail; err != nil {
		r.fail = nil
		return err
	}
	r.texts = append(r.texts, shown{s, time.Now()})
	r.notify()
	return nil
}

func (r *recordSink) SetProgress(p float64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.progress = append(r.progress, p)
	r.notify()
	return nil
}

func (r *recordSink) notify() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *recordSink) Texts() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.texts))
	for i, s := range r.texts {
		out[i] = s.text
	}
	return out
}

func (r *recordSink) Progress() []float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]float64(nil), r.progress...)
}

// waitText waits up to d for a text (set after since) that ok accepts,
// and returns it with the time it was set.
func (r *recordSink) waitText(t *testing.T, d time.Duration, since time.Time, what string, ok func(string) bool) shown {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		for _, s := range r.texts {
			if !s.at.Before(since) && ok(s.text) {
				r.mu.Unlock()
				return s
			}
		}
		last := "(none)"
		if n := len(r.texts); n > 0 {
			last = r.texts[n-1].text
		}
		r.mu.Unlock()
		select {
		case <-r.changed:
		case <-deadline.C:
			t.Fatalf("no %s within %v; text is %q", what, d, last)
		}
	}
}

// eventually waits up to d for cond, checking every 20 ms.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("no %s within %v", what, d)
		}
	}
}

func prefix(p string) func(string) bool {
	return func(s string) bool { return strings.HasPrefix(s, p) }
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// scriptSource is a source the test drives.
type scriptSource struct {
	init Status
	ch   chan Status
}

func (s *scriptSource) initial() Status { return s.init }

func (s *scriptSource) run(ctx context.Context, report func(Status, Link)) {
	for {
		select {
		case <-ctx.Done():
			return
		case st := <-s.ch:
			report(st, Link{Connected: true, Transport: "script"})
		}
	}
}

func startScripted(t *testing.T, text string, sink Sink) (*Overlay, chan Status) {
	t.Helper()
	cfg := configs.Default()
	if text != "" {
		cfg.Overlay.Text = text
	}
	src := &scriptSource{init: Status{Source: "Script", State: StateConnecting, StateText: "Connecting"}, ch: make(chan Status)}
	o, err := newOverlay(context.Background(), cfg, sink, quietLog(), deps{now: time.Now, source: src})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(o.Close)
	return o, src.ch
}

var errSinkDown = errors.New("graph not playing")
