package compositor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-gst/go-gst/gst"

	"github.com/pipcam/pipcam/configs"
)

// PushState is where a push destination is, as status shows it.
type PushState string

const (
	PushOff        PushState = "off"        // not wanted: stopped, manual, or no print running
	PushConnecting PushState = "connecting" // started, nothing sent yet
	PushLive       PushState = "live"       // the server takes the stream
	PushRetrying   PushState = "retrying"   // lost or refused; trying again after a wait
)

// Push timing.
const (
	// pushStall: a live push that sends nothing for this long is taken
	// down and started again (a server that stopped reading).
	pushStall = 10 * time.Second
	// pushFinish bounds the goodbye to the server when a push stops.
	pushFinish = 2 * time.Second
	// pushPoll is how often a push's progress is read.
	pushPoll = 500 * time.Millisecond
)

// ErrPushStalled ends a push whose server stopped taking the stream.
var ErrPushStalled = fmt.Errorf("the server took nothing for %s", pushStall)

// Pusher publishes the one encode to the configured RTMP/RTMPS servers,
// each in a pipeline of its own that is retried with backoff when the
// server drops it. Nothing is encoded again; a slow or dead server never
// holds up the Graph or its viewers.
type Pusher struct {
	dests []*destination
}

// PushStatus is one destination in /api/status. It never holds the key.
type PushStatus struct {
	Name      string     `json:"name"`
	URL       string     `json:"url"` // without the key
	Start     string     `json:"start"`
	Enabled   bool       `json:"enabled"`
	State     PushState  `json:"state"`
	LiveSince *time.Time `json:"live_since,omitempty"`
	// BytesSent counts what the RTMP client sent, every connection.
	BytesSent uint64 `json:"bytes_sent"`
	// Reconnects counts the attempts after a failure.
	Reconnects int        `json:"reconnects"`
	Error      string     `json:"error,omitempty"`
	ErrorTime  *time.Time `json:"error_time,omitempty"`
	// Skipped counts access units left out to start at a keyframe.
	Skipped uint64 `json:"skipped_access_units"`
}

// NewPusher starts the destinations whose start is always; the others
// wait for SetPush or a print (Printing). Every element the pushes need
// must be installed: the error names the missing ones and their packages.
func NewPusher(g *Graph, cfg configs.Push, log *slog.Logger) (*Pusher, error) {
	initGStreamer()
	p := &Pusher{}
	backlog := outputBacklog(g.cfg.Encoder.BitrateKbps)
	var factories []string
	for _, dc := range cfg.Destinations {
		t, err := dc.Target()
		if err != nil {
			return nil, fmt.Errorf("push %s: %w", dc.Name, err)
		}
		desc, err := pushDescription(t, dc.Audio, backlog)
		if err != nil {
			return nil, fmt.Errorf("push %s: %w", dc.Name, err)
		}
		factories = append(factories, desc.Factories()...)
		var silence *silentAudio
		if dc.Audio == configs.AudioSilent {
			silence = &silentAudio{} // encoded below, once the elements are known to be there
		}
		p.dests = append(p.dests, &destination{
			cfg: dc, g: g, desc: desc, backlog: backlog, silence: silence,
			log:   log.With("push", dc.Name),
			want:  dc.Start == configs.PushAlways,
			state: PushOff,
			wake:  make(chan struct{}, 1),
			done:  make(chan struct{}),
		})
	}
	silent := slices.ContainsFunc(p.dests, func(d *destination) bool { return d.silence != nil })
	if silent {
		sd, err := silenceDescription()
		if err != nil {
			return nil, err
		}
		factories = append(factories, sd.Factories()...)
	}
	if err := checkFactories(factories, Exists); err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	if silent {
		a, err := silentAAC()
		if err != nil {
			return nil, fmt.Errorf("push: %w", err)
		}
		for _, d := range p.dests {
			if d.silence != nil {
				*d.silence = a
			}
		}
	}
	for _, d := range p.dests {
		ctx, cancel := context.WithCancel(context.Background())
		d.cancel = cancel
		go d.supervise(ctx)
	}
	return p, nil
}

// SetPush starts (on) or stops pushing to the named destination. An
// unknown name is an error wrapping fs.ErrNotExist.
func (p *Pusher) SetPush(name string, on bool) error {
	for _, d := range p.dests {
		if d.cfg.Name == name {
			d.setWant(on)
			return nil
		}
	}
	return fmt.Errorf("%w: no push destination %q", fs.ErrNotExist, name)
}

// Printing starts (a print started) or stops (it ended) the destinations
// whose start is printing.
func (p *Pusher) Printing(on bool) {
	for _, d := range p.dests {
		if d.cfg.Start == configs.PushPrinting {
			d.setWant(on)
		}
	}
}

// Status reports every destination, in config order.
func (p *Pusher) Status() any {
	out := make([]PushStatus, 0, len(p.dests))
	for _, d := range p.dests {
		out = append(out, d.status())
	}
	return out
}

// Close stops every push (each says goodbye to its server) and waits.
func (p *Pusher) Close() {
	for _, d := range p.dests {
		d.cancel()
	}
	for _, d := range p.dests {
		<-d.done
	}
}

// destination keeps one push going while it is wanted.
type destination struct {
	cfg     configs.PushDestination
	g       *Graph
	desc    *Description
	backlog uint64
	silence *silentAudio // nil: no audio track
	log     *slog.Logger
	wake    chan struct{} // want changed

	mu         sync.Mutex
	want       bool
	state      PushState
	liveSince  time.Time
	sentBefore uint64 // bytes of ended connections
	sentNow    uint64 // bytes of the current one
	skipped    uint64
	reconnects int
	lastErr    string
	errTime    time.Time

	cancel context.CancelFunc
	done   chan struct{}
}

func (d *destination) setWant(on bool) {
	d.mu.Lock()
	d.want = on
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *destination) wanted() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.want
}

func (d *destination) setState(s PushState) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.state = s
	if s != PushLive {
		d.liveSince = time.Time{}
	}
}

// supervise pushes while wanted and retries a push that failed, after a
// fifth of the time the server has been lost (0.5 s to 10 s).
func (d *destination) supervise(ctx context.Context) {
	defer close(d.done)
	lostAt := time.Now()
	var last error
	for {
		if !d.wanted() {
			d.setState(PushOff)
			select {
			case <-ctx.Done():
				return
			case <-d.wake:
				continue
			}
		}
		d.setState(PushConnecting)
		wasLive, err := d.attempt(ctx)
		if ctx.Err() != nil {
			return
		}
		if err == nil { // stopped on purpose
			last = nil
			continue
		}
		if wasLive {
			lostAt = time.Now()
		}
		d.lost(err, wasLive, last)
		last = err
		select {
		case <-ctx.Done():
			return
		case <-d.wake: // stopped, or started again by hand: at once
		case <-time.After(retryDelay(time.Since(lostAt))):
		}
	}
}

// attempt runs one push until it fails (its error) or is no longer
// wanted (nil). wasLive says whether the server took data.
func (d *destination) attempt(ctx context.Context) (wasLive bool, err error) {
	o, err := startOutput(d.g, outputOptions{desc: d.desc, maxBacklog: d.backlog, redact: d.redact, setup: d.setStream, silence: d.silence})
	if err != nil {
		return false, err
	}
	tick := time.NewTicker(pushPoll)
	defer tick.Stop()
	var sent uint64
	lastMove := time.Now()
	for {
		select {
		case <-ctx.Done():
			_ = o.finish(pushFinish)
			d.account(o, sent, true)
			return wasLive, nil
		case <-d.wake:
			if d.wanted() {
				continue
			}
			_ = o.finish(pushFinish)
			d.account(o, sent, true)
			d.log.Info("push stopped")
			return wasLive, nil
		case err := <-o.died:
			o.close()
			d.account(o, sent, true)
			return wasLive, err
		case <-tick.C:
			now := sentBytes(o)
			if now > sent {
				sent, lastMove = now, time.Now()
				if !wasLive {
					wasLive = true
					d.live()
				}
			} else if time.Since(lastMove) > pushStall {
				o.close()
				d.account(o, sent, true)
				return wasLive, ErrPushStalled
			}
			d.account(o, sent, false)
		}
	}
}

// account records a connection's bytes (ended: added to the total).
func (d *destination) account(o *output, sent uint64, ended bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sentNow = sent
	d.skipped += o.skipped.Swap(0)
	if ended {
		d.sentBefore += sent
		d.sentNow = 0
	}
}

func (d *destination) live() {
	d.mu.Lock()
	d.state, d.liveSince = PushLive, time.Now()
	n := d.reconnects
	d.mu.Unlock()
	d.log.Info("pushing", "url", d.cfg.URL, "reconnects", n)
}

// lost records why a push ended and logs it (a repeat quietly).
func (d *destination) lost(err error, wasLive bool, last error) {
	d.mu.Lock()
	d.state = PushRetrying
	d.liveSince = time.Time{}
	d.reconnects++
	d.lastErr, d.errTime = err.Error(), time.Now()
	d.mu.Unlock()
	switch {
	case wasLive:
		d.log.Error("push lost, reconnecting", "url", d.cfg.URL, "error", err, "debug", debugOf(err))
	case last == nil || last.Error() != err.Error():
		d.log.Error("push cannot start, retrying", "url", d.cfg.URL, "error", err, "debug", debugOf(err))
	default:
		d.log.Debug("push still failing", "error", err)
	}
}

func (d *destination) status() PushStatus {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := PushStatus{
		Name: d.cfg.Name, URL: d.cfg.URL, Start: string(d.cfg.Start), Enabled: d.want,
		State: d.state, BytesSent: d.sentBefore + d.sentNow, Reconnects: d.reconnects,
		Error: d.lastErr, Skipped: d.skipped,
	}
	if !d.liveSince.IsZero() {
		t := d.liveSince
		st.LiveSince = &t
	}
	if !d.errTime.IsZero() {
		t := d.errTime
		st.ErrorTime = &t
	}
	return st
}

// setStream gives the RTMP client its stream: the key, which is in no
// description, log or status.
func (d *destination) setStream(p *gst.Pipeline) error {
	t, err := d.cfg.Target()
	if err != nil {
		return err
	}
	sink, err := p.GetElementByName(nameOutSink)
	if err != nil {
		return fmt.Errorf("push pipeline: %w", err)
	}
	if err := sink.SetProperty("stream", t.Stream.Reveal()); err != nil {
		return errors.New("set the push stream") // the error could quote it
	}
	return nil
}

// redact takes the key out of GStreamer's words, in every form a URL or
// a message could carry it.
func (d *destination) redact(s string) string {
	key := d.cfg.Key.Reveal()
	if key == "" {
		return s
	}
	for _, k := range []string{key, url.PathEscape(key), url.QueryEscape(key)} {
		s = strings.ReplaceAll(s, k, "REDACTED")
	}
	return s
}

// sentBytes is what the RTMP client has written to the server so far.
func sentBytes(o *output) uint64 {
	sink := o.element(nameOutSink)
	if sink == nil {
		return 0
	}
	v, err := sink.GetProperty("stats")
	if err != nil {
		return 0
	}
	st, ok := v.(*gst.Structure)
	if !ok || st == nil {
		return 0
	}
	n, err := st.GetValue("out-bytes-total")
	if err != nil {
		return 0
	}
	b, _ := n.(uint64)
	return b
}

// outputBacklog is how much an output's appsrc may hold before it skips
// to the next keyframe: about five seconds of the stream, at least 1 MiB.
func outputBacklog(kbps int) uint64 {
	return max(uint64(kbps)*1000/8*5, 1<<20)
}
