package compositor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-gst/go-gst/gst"
	"github.com/go-gst/go-gst/gst/app"
)

// ErrJPEGClosed is returned once the graph is closing.
var ErrJPEGClosed = errors.New("JPEG branch closed")

// errJPEGOff wraps errors.ErrUnsupported, so signaling can tell "turned off
// in the config" (404) from a failure without importing this package.
var errJPEGOff = fmt.Errorf("jpeg.enabled is false: %w", errors.ErrUnsupported)

// snapshotter runs the JPEG branch only while someone wants pictures: a
// snapshot in flight or at least one MJPEG subscriber. Then the valve is
// open and one goroutine pulls each JPEG and hands the same bytes to every
// snapshot waiting and to every subscriber; with nobody asking the valve is
// closed and the goroutine is gone. Nothing here ever blocks the graph: a
// subscriber whose queue is full loses that picture.
//
// The snapshotter belongs to the Graph and outlives its pipelines: a
// rebuilt pipeline attaches its branch (attach), the dying one detaches
// (detach), and snapshots and MJPEG viewers simply wait across the gap.
type snapshotter struct {
	enabled bool // false: jpeg.enabled is off and there is no branch
	// reuse: a JPEG younger than this (one output frame) answers a snapshot
	// at once, as no newer picture exists yet.
	reuse time.Duration
	// gap: the least PTS distance between two frames let through to the
	// encoder: the MJPEG period less half an output frame, so 15 fps
	// thinned to 5 keeps every third frame despite timestamp jitter.
	gap gst.ClockTime
	// nextPTS: the probe lets no frame stamped before this through. Only
	// the valve's streaming thread touches it.
	nextPTS gst.ClockTime

	mu      sync.Mutex
	valve   *gst.Element // the running pipeline's branch; nil while detached
	sink    *app.Sink
	waiters []chan []byte
	subs    map[int]chan []byte
	nextID  int
	running bool   // the pull goroutine is alive and the valve open
	last    []byte // the last JPEG handed out, and when
	lastAt  time.Time
	closed  bool
	wg      sync.WaitGroup

	encodes atomic.Uint64 // JPEGs handed out: one per encode, however many take it
}

func newSnapshotter(enabled bool, outFPS, jpegFPS int) *snapshotter {
	frame := time.Second / time.Duration(max(outFPS, 1))
	return &snapshotter{
		enabled: enabled,
		reuse:   frame,
		gap:     gst.ClockTime(time.Second/time.Duration(max(jpegFPS, 1)) - frame/2),
		subs:    map[int]chan []byte{},
	}
}

// attach takes a freshly started pipeline's branch, and opens it at once
// when someone is already waiting.
func (s *snapshotter) attach(valve, sink *gst.Element) error {
	if !s.enabled {
		return nil
	}
	valve.GetStaticPad("src").AddProbe(gst.PadProbeTypeBuffer, s.limitRate)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.valve, s.sink, s.nextPTS = valve, app.SinkFromElement(sink), 0
	if s.wantedLocked() && !s.closed {
		return s.demandLocked()
	}
	return nil
}

// detach lets go of a pipeline that is stopping: the pull goroutine ends,
// waiters and subscribers stay for the next one.
func (s *snapshotter) detach() {
	s.mu.Lock()
	s.stopLocked()
	s.valve, s.sink = nil, nil
	s.mu.Unlock()
	s.wg.Wait()
}

// limitRate is a buffer probe on the valve's src pad: it runs only for
// frames the open valve passes and drops those that would exceed the MJPEG
// rate, before they cost an encode. (videorate max-rate was tried here: it
// keeps its output timeline across the valve's closed spells and, after
// one, lets every frame through until it has caught up.)
func (s *snapshotter) limitRate(_ *gst.Pad, info *gst.PadProbeInfo) gst.PadProbeReturn {
	buf := info.GetBuffer()
	if buf == nil {
		return gst.PadProbeOK
	}
	pts := buf.PresentationTimestamp()
	if pts == gst.ClockTimeNone {
		return gst.PadProbeOK
	}
	if pts < s.nextPTS {
		return gst.PadProbeDrop
	}
	s.nextPTS = pts + s.gap
	return gst.PadProbeOK
}

// take returns the next JPEG (or one made within the last frame).
func (s *snapshotter) take(ctx context.Context) ([]byte, error) {
	if !s.enabled {
		return nil, errJPEGOff
	}
	ch := make(chan []byte, 1)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrJPEGClosed
	}
	if s.last != nil && time.Since(s.lastAt) < s.reuse {
		b := s.last
		s.mu.Unlock()
		return b, nil
	}
	if err := s.demandLocked(); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	s.waiters = append(s.waiters, ch)
	s.mu.Unlock()
	select {
	case b, ok := <-ch:
		if !ok {
			return nil, ErrJPEGClosed
		}
		return b, nil
	case <-ctx.Done():
		s.mu.Lock()
		for i, w := range s.waiters {
			if w == ch {
				s.waiters = append(s.waiters[:i], s.waiters[i+1:]...)
				break
			}
		}
		s.mu.Unlock()
		return nil, fmt.Errorf("snapshot: %w", ctx.Err())
	}
}

// subscribe delivers every JPEG from now on until cancel is called. The
// channel holds buffer pictures; when it is full the subscriber loses the
// new one. It is closed by cancel or when the graph closes.
func (s *snapshotter) subscribe(buffer int) (<-chan []byte, func(), error) {
	if !s.enabled {
		return nil, nil, errJPEGOff
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, nil, ErrJPEGClosed
	}
	if err := s.demandLocked(); err != nil {
		return nil, nil, err
	}
	id := s.nextID
	s.nextID++
	ch := make(chan []byte, max(buffer, 1))
	s.subs[id] = ch
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if c, ok := s.subs[id]; ok {
				delete(s.subs, id)
				close(c)
			}
		})
	}, nil
}

func (s *snapshotter) wantedLocked() bool { return len(s.waiters)+len(s.subs) > 0 }

// demandLocked opens the branch if it is not running. s.mu is held.
// Detached (a rebuild under way), the request waits for attach.
func (s *snapshotter) demandLocked() error {
	if s.running || s.valve == nil {
		return nil
	}
	// Whatever the sink still holds is from an earlier opening (the frame
	// that was in the queue when the valve closed): never show the past.
	for s.releaseNext(0) {
	}
	if err := s.valve.SetProperty("drop", false); err != nil {
		return fmt.Errorf("open JPEG branch: %w", err)
	}
	s.running = true
	s.wg.Add(1)
	go s.pull()
	return nil
}

// pull runs while someone asks: it takes each JPEG from the sink and hands
// it out, and closes the valve as soon as nobody wants more.
func (s *snapshotter) pull() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		if s.closed || !s.running || !s.wantedLocked() {
			s.stopLocked()
			s.mu.Unlock()
			return
		}
		sink := s.sink
		s.mu.Unlock()
		asked := time.Now()
		data, ok := pullJPEG(sink, pollInterval)
		if !ok {
			// A sink that is not playing (end of stream) answers at once:
			// do not spin on it.
			if time.Since(asked) < pollInterval/10 {
				time.Sleep(pollInterval / 10)
			}
			continue
		}
		s.mu.Lock()
		s.deliverLocked(data)
		s.mu.Unlock()
	}
}

// deliverLocked hands one JPEG to every waiter and subscriber. If nobody
// is left wanting more it closes the valve before waking the waiters, so
// a caller that got its snapshot finds the branch idle.
func (s *snapshotter) deliverLocked(data []byte) {
	s.encodes.Add(1)
	s.last, s.lastAt = data, time.Now()
	waiters := s.waiters
	s.waiters = nil
	if len(s.subs) == 0 {
		s.stopLocked()
	}
	for _, w := range waiters {
		w <- data // buffered 1, and each waiter is served once
	}
	for _, c := range s.subs {
		select {
		case c <- data:
		default: // this subscriber is behind: it loses this picture
		}
	}
}

// stopLocked closes the valve; the pull goroutine ends after this.
func (s *snapshotter) stopLocked() {
	if !s.running {
		return
	}
	s.running = false
	// A valve takes a boolean "drop" in every state: this cannot fail.
	_ = s.valve.SetProperty("drop", true)
}

// pullJPEG takes one JPEG, copies it and gives the GStreamer sample back
// at once rather than when Go's collector gets to it.
func pullJPEG(sink *app.Sink, timeout time.Duration) ([]byte, bool) {
	sample := sink.TryPullSample(gst.ClockTime(timeout))
	if sample == nil {
		return nil, false
	}
	defer release(sample)
	buf := sample.GetBuffer()
	if buf == nil {
		return nil, false
	}
	defer releaseBuffer(buf)
	return buf.Bytes(), true
}

// releaseNext drops one sample if one is ready within timeout.
func (s *snapshotter) releaseNext(timeout time.Duration) bool {
	sample := s.sink.TryPullSample(gst.ClockTime(timeout))
	if sample == nil {
		return false
	}
	release(sample)
	return true
}

// close ends every snapshot and subscription and waits for the pull
// goroutine. The graph calls it before it stops.
func (s *snapshotter) close() {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.closed = true
	for _, w := range s.waiters {
		close(w)
	}
	s.waiters = nil
	for id, c := range s.subs {
		delete(s.subs, id)
		close(c)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Snapshot returns the current composite as a JPEG. The JPEG branch runs
// only while someone asks, and callers asking at the same time share one
// encode.
func (g *Graph) Snapshot(ctx context.Context) ([]byte, error) {
	return g.jpeg.take(ctx)
}

// SubscribeJPEG delivers the composite as JPEG at the MJPEG rate until
// cancel is called; a subscriber whose buffer is full loses pictures, the
// graph never waits. The channel is closed by cancel or when the graph
// closes.
func (g *Graph) SubscribeJPEG(buffer int) (<-chan []byte, func(), error) {
	return g.jpeg.subscribe(buffer)
}

// JPEGEncodes counts the JPEGs the branch made (and handed out) since the
// start: one per encode, however many callers shared it.
func (g *Graph) JPEGEncodes() uint64 { return g.jpeg.encodes.Load() }

// JPEGSubscribers is how many MJPEG subscriptions are open.
func (g *Graph) JPEGSubscribers() int {
	g.jpeg.mu.Lock()
	defer g.jpeg.mu.Unlock()
	return len(g.jpeg.subs)
}
