// Package overlay makes the text and the progress value burnt into the
// picture: the printer's status from a source (OctoPrint, Moonraker),
// rendered with the overlay.text template, handed to a Sink. It imports
// only configs; cmd/pipcam hands in the graph as the Sink.
package overlay

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"sync"
	"time"

	"github.com/pipcam/pipcam/configs"
)

// Link is the state of the connection to the printer server.
type Link struct {
	Transport string    `json:"transport,omitempty"` // push or poll: what runs now
	Connected bool      `json:"connected"`
	LastError string    `json:"last_error,omitempty"` // never holds the API key
	ErrorAt   time.Time `json:"last_error_at,omitzero"`
}

// Report is the overlay's part of GET /api/status.
type Report struct {
	Source        configs.PrinterType `json:"source"` // none, octoprint, moonraker
	Link          Link                `json:"link"`
	Text          string              `json:"text"`     // what the sink shows
	Progress      float64             `json:"progress"` // what the bar shows, -1 none
	TemplateError string              `json:"template_error,omitempty"`
	SinkError     string              `json:"sink_error,omitempty"`
	Printer       Status              `json:"printer"`
}

// source produces statuses: initial before it runs, then through report
// until ctx ends.
type source interface {
	initial() Status
	run(ctx context.Context, report func(Status, Link))
}

type update struct {
	status Status
	link   Link
}

// Overlay renders every status change and hands the text and progress to
// the sink, only when they changed. One goroutine, started by New and
// ended by Close or the context, owns the sink calls.
type Overlay struct {
	log     *slog.Logger
	sink    Sink
	tmpl    *textTemplate
	src     source
	now     func() time.Time
	updates chan update
	subs    subscribers
	cancel  context.CancelFunc
	done    chan struct{}

	// Owned by the loop goroutine.
	events    eventTracker
	shown     string
	shownOK   bool
	bar       float64
	barOK     bool
	published Status
	tmplErr   string
	sinkErr   string

	mu     sync.Mutex
	report Report
}

// deps are what tests may replace.
type deps struct {
	getenv func(string) string
	now    func() time.Time
	timing sourceTiming
	source source // instead of the one cfg.Printer names
}

// New starts the overlay: it draws the first text at once (the status
// before any contact with the printer) and then follows the printer until
// ctx ends or Close. The API key comes from cfg.Printer (see
// configs.Printer.ResolveAPIKey).
func New(ctx context.Context, cfg *configs.Config, sink Sink, log *slog.Logger) (*Overlay, error) {
	return newOverlay(ctx, cfg, sink, log, deps{getenv: os.Getenv, now: time.Now, timing: defaultTiming})
}

func newOverlay(ctx context.Context, cfg *configs.Config, sink Sink, log *slog.Logger, d deps) (*Overlay, error) {
	tmpl, err := newTextTemplate(cfg.Overlay.Text, d.now)
	if err != nil {
		return nil, err
	}
	src := d.source
	if src == nil {
		if src, err = newSource(cfg.Printer, d, log); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	o := &Overlay{
		log:     log,
		sink:    sink,
		tmpl:    tmpl,
		src:     src,
		now:     d.now,
		updates: make(chan update, 8),
		cancel:  cancel,
		done:    make(chan struct{}),
		report:  Report{Source: cfg.Printer.Type, Progress: -1},
	}
	o.apply(update{status: src.initial()})
	go o.loop(ctx)
	return o, nil
}

// newSource makes the source cfg.Type names.
func newSource(cfg configs.Printer, d deps, log *slog.Logger) (source, error) {
	switch cfg.Type {
	case configs.PrinterNone:
		return noPrinter{}, nil
	case configs.PrinterOctoPrint:
		return newOctoPrint(cfg, d.getenv, d.timing, log)
	case configs.PrinterMoonraker:
		return newMoonraker(cfg, d.getenv, d.timing, log)
	}
	return nil, fmt.Errorf("printer.type %q is not supported", cfg.Type)
}

// FirstText is the text New draws first. A graph built before the overlay
// can start with it rather than with overlay.text, which is a template.
func FirstText(cfg *configs.Config) (string, error) {
	d := deps{getenv: os.Getenv, now: time.Now, timing: defaultTiming}
	tmpl, err := newTextTemplate(cfg.Overlay.Text, d.now)
	if err != nil {
		return "", err
	}
	src, err := newSource(cfg.Printer, d, slog.New(slog.DiscardHandler))
	if err != nil {
		return "", err
	}
	return tmpl.render(src.initial())
}

// Close stops following the printer and waits for it; subscriptions end.
// The sink keeps the last text.
func (o *Overlay) Close() {
	o.cancel()
	<-o.done
}

// Report returns the overlay's state, for GET /api/status.
func (o *Overlay) Report() Report {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.report
}

// Status is Report as the status API takes it.
func (o *Overlay) Status() any { return o.Report() }

// Subscribe follows status changes (print events ride on them: see
// Status.Event). The channel starts with the current status. A subscriber
// that falls more than a few statuses behind loses the oldest, never the
// latest, and never holds up the overlay. cancel ends the subscription;
// Close ends them all (the channel is closed).
func (o *Overlay) Subscribe() (<-chan Status, func()) {
	o.mu.Lock()
	latest := o.report.Printer
	o.mu.Unlock()
	return o.subs.add(latest)
}

func (o *Overlay) loop(ctx context.Context) {
	defer close(o.done)
	var wg sync.WaitGroup
	defer o.subs.closeAll()
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		o.src.run(ctx, func(st Status, l Link) {
			select {
			case o.updates <- update{st, l}:
			case <-ctx.Done():
			}
		})
	}()
	// A template showing the clock is drawn again every second.
	var tick <-chan time.Time
	var timer *time.Timer
	if o.tmpl.clocked {
		timer = time.NewTimer(untilNextSecond())
		defer timer.Stop()
		tick = timer.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case u := <-o.updates:
			o.apply(u)
		case <-tick:
			o.draw(o.published)
			timer.Reset(untilNextSecond())
		}
	}
}

// untilNextSecond lands just after the next second, so a clock in the
// picture turns over when the wall clock does.
func untilNextSecond() time.Duration {
	now := time.Now()
	return now.Truncate(time.Second).Add(time.Second + 5*time.Millisecond).Sub(now)
}

// apply takes a status from the source: derives the print event, draws,
// and tells subscribers when anything changed.
func (o *Overlay) apply(u update) {
	st := u.status
	st.Event = o.events.observe(st, o.now())
	o.mu.Lock()
	o.report.Printer, o.report.Link = st, u.link
	o.mu.Unlock()
	o.draw(st)
	if !reflect.DeepEqual(st, o.published) {
		o.published = st
		o.subs.publish(st)
	}
}

// draw renders st and sets what changed on the sink. A template that fails
// on this status (an index out of range) shows the state in words.
func (o *Overlay) draw(st Status) {
	text, err := o.tmpl.render(st)
	o.tmplErr = o.noteError(o.tmplErr, err, "overlay text template failed; showing the state instead")
	if err != nil {
		text = clean(st.StateText)
	}
	var sinkErr error
	if !o.shownOK || text != o.shown {
		if sinkErr = o.sink.SetText(text); sinkErr == nil {
			o.shown, o.shownOK = text, true
		}
	}
	if bar := st.progress(); sinkErr == nil && (!o.barOK || bar != o.bar) {
		if sinkErr = o.sink.SetProgress(bar); sinkErr == nil {
			o.bar, o.barOK = bar, true
		}
	}
	o.sinkErr = o.noteError(o.sinkErr, sinkErr, "cannot set the overlay")
	o.mu.Lock()
	o.report.Text, o.report.Progress = o.shown, o.bar
	if !o.barOK {
		o.report.Progress = -1
	}
	o.report.TemplateError, o.report.SinkError = o.tmplErr, o.sinkErr
	o.mu.Unlock()
}

// noteError logs err when it differs from the last one, and returns its
// text ("" for nil).
func (o *Overlay) noteError(last string, err error, what string) string {
	if err == nil {
		return ""
	}
	if msg := err.Error(); msg != last {
		o.log.Warn(what, "error", msg)
	}
	return err.Error()
}

// noPrinter is printer type none: the template renders once, with
// State none (and every second if it shows the clock).
type noPrinter struct{}

func (noPrinter) initial() Status { return Status{State: StateNone, StateText: "No printer"} }

func (noPrinter) run(context.Context, func(Status, Link)) {}
