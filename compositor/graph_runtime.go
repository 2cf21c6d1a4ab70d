package compositor

import (
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-gst/go-gst/gst"

	"github.com/pipcam/pipcam/configs"
	"github.com/pipcam/pipcam/media"
)

var initOnce sync.Once

// initGStreamer initialises GStreamer once per process, on first use rather
// than at import, so a binary that never builds a graph never loads it.
func initGStreamer() { initOnce.Do(func() { gst.Init(nil) }) }

// Exists reports whether a GStreamer element factory is installed.
func Exists(factory string) bool {
	initGStreamer()
	return gst.Find(factory) != nil
}

// Graph is the live picture: capture, composite, one encode. It outlives the
// GStreamer pipeline that makes it: when the pipeline dies (a fatal error
// or end-of-stream) the Graph builds a new one with backoff, and
// subscribers, settings and the picture timeline carry over, so viewers
// keep their sessions and see a keyframe.
type Graph struct {
	cfg  *configs.Config
	plan *Plan
	log  *slog.Logger

	keyframes *keyframer
	fanout    *fanout
	jpeg      *snapshotter // snapshots and MJPEG, across pipeline rebuilds
	// cams run each camera's own pipeline, in config order; they outlive
	// rebuilds of the mixer's.
	cams []*camera

	mu          sync.Mutex
	cur         *run // nil while a rebuild is under way
	layout      configs.Layout
	text        string
	style       configs.Overlay // the overlay's look (Text unused)
	progress    float64         // the bar's progress, 0-1; negative: hidden
	bitrateKbps int
	// settings counts changes to the five above, so a run started with
	// older ones gets them again when it is installed (see install).
	settings uint64
	errs     []GraphError // the most recent, oldest first
	errCount uint64
	rebuilds int
	lastPTS  time.Duration

	started  time.Time
	aus      atomic.Uint64
	keyAUs   atomic.Uint64
	auBytes  atomic.Uint64
	lastAUns atomic.Int64
	drains   atomic.Uint64 // pull-loop wake-ups that found pictures
	// ringLost counts the pictures earlier runs' rings lost (wake_au.go).
	ringLost atomic.Uint64

	failed chan error // the reason the Graph gave up; see Failed
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// GraphError is one error GStreamer reported, as /api/status shows it.
type GraphError struct {
	Time    time.Time `json:"time"`
	Element string    `json:"element"`
	Camera  string    `json:"camera,omitempty"` // the camera whose chain it came from
	Message string    `json:"message"`
	Debug   string    `json:"debug,omitempty"`
}

// keptErrors bounds the errors kept for status.
const keptErrors = 20

// StartTimeout bounds how long a start waits for the first encoded picture.
const StartTimeout = 15 * time.Second

// ErrNoPicture is the start failure where nothing failed but no picture came.
var ErrNoPicture = errors.New("no picture from the encoder")

// rebuildBackoff is the wait before each attempt to rebuild a dead graph;
// after the last one fails the Graph gives up (see Failed).
var rebuildBackoff = []time.Duration{0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}

// graphSeq numbers Graphs, so the inter channels of two in one process
// (tests) never meet.
var graphSeq atomic.Uint64

// New builds the graph from a validated config, starts each camera's
// pipeline and the mixer's, and waits until the first access unit is out
// of the encoder. A camera that cannot start does not stop it: its slot
// shows the camera's card, status says why, and the camera is retried.
// Every element the graph needs must be installed; the error names the
// missing ones and their packages.
func New(ctx context.Context, cfg *configs.Config, log *slog.Logger) (*Graph, error) {
	initGStreamer()
	plan, err := build(cfg, Exists, buildOptions{channel: fmt.Sprintf("pipcam%d", graphSeq.Add(1))})
	if err != nil {
		return nil, err
	}
	if err := CheckElements(plan, Exists); err != nil {
		return nil, err
	}
	g := &Graph{
		cfg: cfg, plan: plan, log: log, fanout: newFanout(),
		layout:      cfg.Layout,
		style:       cfg.Overlay,
		progress:    -1,
		bitrateKbps: cfg.Encoder.BitrateKbps,
		failed:      make(chan error, 1),
	}
	g.keyframes = newKeyframer(cfg.Encoder.KeyframeMinGap.D(), g.forceKeyUnit)
	g.jpeg = newSnapshotter(cfg.JPEG.Enabled, cfg.Output.Framerate, cfg.MJPEGRate())
	g.started = time.Now()
	for _, cp := range plan.Cameras {
		c := newCamera(cp, plan, cfg.Output, log, g.recordError)
		c.start()
		g.cams = append(g.cams, c)
	}
	r, err := g.startRun(ctx, 0)
	if errors.Is(err, ErrNoPicture) {
		// Nothing failed, yet nothing came (a stall seen once in CI): one
		// fresh pipeline before giving up.
		log.Error("graph started but produced nothing; building it again", "error", err)
		r, err = g.startRun(ctx, 0)
	}
	if err != nil {
		g.closeCameras()
		g.keyframes.Close()
		return nil, err
	}
	g.mu.Lock()
	g.install(r)
	g.mu.Unlock()
	log.Info("graph playing", "encoder", plan.Encoder, "width", cfg.Output.Width,
		"height", cfg.Output.Height, "fps", cfg.Output.Framerate, "bitrate_kbps", cfg.Encoder.BitrateKbps)

	superCtx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	g.wg.Add(1)
	go g.supervise(superCtx, r)
	return g, nil
}

func (g *Graph) closeCameras() {
	for _, c := range g.cams {
		c.close()
	}
}

// supervise waits for the running pipeline to die and replaces it.
func (g *Graph) supervise(ctx context.Context, r *run) {
	defer g.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case why := <-r.died:
			next, err := g.rebuild(ctx, r, why)
			if err != nil {
				if ctx.Err() == nil {
					g.failed <- err
				}
				return
			}
			r = next
		}
	}
}

// rebuild closes a dead run and starts a new one, with backoff. Subscribers
// keep their channels; the new pipeline starts with a keyframe and its
// timeline continues the old one.
func (g *Graph) rebuild(ctx context.Context, dead *run, why error) (*run, error) {
	g.log.Error("graph died, rebuilding it", "error", why)
	g.mu.Lock()
	g.cur = nil
	g.mu.Unlock()
	dead.close()
	var err error
	for i, wait := range rebuildBackoff {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		g.mu.Lock()
		base := g.lastPTS + time.Second/time.Duration(max(g.cfg.Output.Framerate, 1))
		g.mu.Unlock()
		var r *run
		if r, err = g.startRun(ctx, base); err == nil {
			g.mu.Lock()
			g.install(r)
			g.rebuilds++
			g.mu.Unlock()
			g.log.Info("graph rebuilt", "attempt", i+1)
			return r, nil
		}
		g.log.Error("rebuild graph", "attempt", i+1, "error", err)
	}
	return nil, fmt.Errorf("graph died (%v) and could not be rebuilt after %d attempts: %w", why, len(rebuildBackoff), err)
}

// Failed delivers the reason when the graph died and could not be rebuilt:
// the daemon should then exit non-zero so a supervisor restarts it.
func (g *Graph) Failed() <-chan error { return g.failed }

// Close stops the graph and every goroutine it started. It is safe to call
// more than once.
func (g *Graph) Close() {
	if g.cancel != nil {
		g.cancel()
	}
	g.wg.Wait()
	g.keyframes.Close()
	g.mu.Lock()
	r := g.cur
	g.cur = nil
	g.mu.Unlock()
	if r != nil {
		r.close()
	}
	g.closeCameras()
	g.jpeg.close()
	g.fanout.closeAll()
}

// current returns the running pipeline, nil during a rebuild.
func (g *Graph) current() *run {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.cur
}

// published counts an access unit and hands it to every subscriber.
func (g *Graph) published(au media.AccessUnit) {
	g.aus.Add(1)
	g.auBytes.Add(uint64(len(au.Data)))
	if au.Keyframe {
		g.keyAUs.Add(1)
	}
	g.lastAUns.Store(time.Now().UnixNano())
	g.mu.Lock()
	g.lastPTS = au.PTS
	g.mu.Unlock()
	g.fanout.publish(au)
}

// applySettings gives a freshly parsed pipeline the Graph's current text,
// layout, overlay style and bitrate.
func (g *Graph) applySettings(r *run) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.applySettingsLocked(r)
}

func (g *Graph) applySettingsLocked(r *run) error {
	r.settings = g.settings
	if err := r.overlay.SetProperty("text", html.EscapeString(g.text)); err != nil {
		return fmt.Errorf("set overlay text: %w", err)
	}
	if err := r.applyPads(g.layout); err != nil {
		return err
	}
	if err := r.applyStyle(g.style, g.progress); err != nil {
		return err
	}
	if g.bitrateKbps != r.kbps {
		return r.setBitrate(g.plan.Encoder, g.bitrateKbps)
	}
	return nil
}

// install makes r the running pipeline (g.mu held). A setter called
// while r was starting found no run to apply its change to, only the
// Graph's copy: r gets the copy again, or the change would be lost until
// the next one.
func (g *Graph) install(r *run) {
	if r.settings != g.settings {
		if err := g.applySettingsLocked(r); err != nil {
			g.log.Error("apply settings changed during start-up", "error", err)
		}
	}
	g.cur = r
}

// Plan is what the graph was built from.
func (g *Graph) Plan() *Plan { return g.plan }

// Subscribe delivers every access unit from now on, as it comes, until
// cancel is called. A subscriber that falls behind loses access units; the
// graph never waits. Subscriptions survive a rebuild of the pipeline.
func (g *Graph) Subscribe(buffer int) (<-chan media.AccessUnit, func()) {
	return g.fanout.subscribe(buffer, true)
}

// SubscribeBatched is Subscribe for a subscriber that needs the access
// units as they come only while somebody holds Prompt: meanwhile they
// arrive in batches, idleDrain apart, and the Go side of an idle daemon
// wakes twice a second instead of with every picture.
func (g *Graph) SubscribeBatched(buffer int) (<-chan media.AccessUnit, func()) {
	return g.fanout.subscribe(buffer, false)
}

// Prompt makes the graph hand out access units as they come until release
// is called (a viewer is connecting or watching).
func (g *Graph) Prompt() (release func()) { return g.fanout.hold() }

// RequestKeyframe asks for an IDR at the next frame, rate-limited.
func (g *Graph) RequestKeyframe() { g.keyframes.Request() }

func (g *Graph) forceKeyUnit() {
	r := g.current()
	if r == nil {
		return // a rebuilt pipeline starts with a keyframe anyway
	}
	if !r.forceKeyUnit() {
		g.log.Warn("encoder refused a keyframe request")
	}
}

// SetText replaces the overlay text while playing. The text is shown as it
// is: Pango markup in it is escaped, not interpreted.
func (g *Graph) SetText(text string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cur != nil {
		if err := g.cur.overlay.SetProperty("text", html.EscapeString(text)); err != nil {
			return fmt.Errorf("set overlay text: %w", err)
		}
	}
	g.text = text
	g.settings++
	return nil
}

// Text is the overlay text now shown.
func (g *Graph) Text() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.text
}

// Layout is the layout the compositor now shows.
func (g *Graph) Layout() configs.Layout {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.layout
}

// SetLayout validates a layout and moves the compositor pads to it while
// playing: no renegotiation, the next composited frame shows it. If the
// pads cannot all be moved, the previous layout is put back and stays the
// one reported.
func (g *Graph) SetLayout(l configs.Layout) error {
	if err := l.Validate(g.cfg.CameraNames()); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cur != nil {
		if err := g.cur.applyPads(l); err != nil {
			if rerr := g.cur.applyPads(g.layout); rerr != nil {
				g.log.Error("restore layout", "error", rerr)
			}
			return err
		}
	}
	g.layout = l
	g.settings++
	return nil
}

func (g *Graph) cameraPlan(name string) *CameraPlan {
	for i := range g.plan.Cameras {
		if g.plan.Cameras[i].Camera.Name == name {
			return &g.plan.Cameras[i]
		}
	}
	return nil
}

// applyPads sets every camera's compositor pad from a layout.
func (r *run) applyPads(l configs.Layout) error {
	geo := Geometry(l, r.g.cfg.Output, r.g.cfg.Cameras)
	var errs []error
	for _, cp := range r.g.plan.Cameras {
		errs = append(errs, r.setPad(cp.Pad, geo[cp.Camera.Name]))
	}
	return errors.Join(errs...)
}

func (r *run) setPad(name string, geo PadGeometry) error {
	pad := r.mixer.GetStaticPad(name)
	if pad == nil {
		return fmt.Errorf("compositor has no pad %s", name)
	}
	for _, p := range []struct {
		key string
		val any
	}{
		{"xpos", geo.X}, {"ypos", geo.Y}, {"width", geo.Width}, {"height", geo.Height},
		{"zorder", geo.ZOrder}, {"alpha", geo.Alpha},
	} {
		if err := pad.SetProperty(p.key, p.val); err != nil {
			return fmt.Errorf("compositor pad %s %s: %w", name, p.key, err)
		}
	}
	return nil
}

// PadGeometryNow reads a camera's compositor pad back from GStreamer (for
// tests and status: what the element really has, not what we asked).
func (g *Graph) PadGeometryNow(camera string) (PadGeometry, error) {
	cp := g.cameraPlan(camera)
	r := g.current()
	if cp == nil || r == nil {
		return PadGeometry{}, fmt.Errorf("no camera %q playing", camera)
	}
	pad := r.mixer.GetStaticPad(cp.Pad)
	var geo PadGeometry
	var err error
	read := func(key string) any {
		v, e := pad.GetProperty(key)
		if e != nil && err == nil {
			err = e
		}
		return v
	}
	geo.X, _ = read("xpos").(int)
	geo.Y, _ = read("ypos").(int)
	geo.Width, _ = read("width").(int)
	geo.Height, _ = read("height").(int)
	geo.ZOrder, _ = read("zorder").(uint)
	geo.Alpha, _ = read("alpha").(float64)
	return geo, err
}

// SetBitrate changes the encoder's target bitrate while playing, the knob
// bandwidth adaptation turns.
func (g *Graph) SetBitrate(kbps int) error {
	if kbps < 50 || kbps > 20000 {
		return fmt.Errorf("bitrate %d kbit/s is outside 50-20000", kbps)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cur != nil {
		if err := g.cur.setBitrate(g.plan.Encoder, kbps); err != nil {
			return err
		}
	}
	g.bitrateKbps = kbps
	g.settings++
	return nil
}

func (r *run) setBitrate(enc configs.EncoderElement, kbps int) error {
	prop, val := bitrateSetting(enc, kbps)
	if s, ok := val.(string); ok { // v4l2h264enc takes a GstStructure
		val = gst.NewStructureFromString(s)
	}
	if err := r.encoder.SetProperty(prop, val); err != nil {
		return fmt.Errorf("set %s %s: %w", enc, prop, err)
	}
	r.kbps = kbps
	return nil
}

// FLVPort is the TCP port the FLV server listens on (useful with port 0).
func (g *Graph) FLVPort() int {
	r := g.current()
	if r == nil {
		return 0
	}
	v, err := r.flvSink.GetProperty("current-port")
	if err != nil {
		return 0
	}
	p, _ := v.(int)
	return p
}

// InjectError makes a named element of the running pipelines (the
// mixer's, or a camera's) report an error, as if it had failed: the way
// tests (and a curious operator) check what pipcam does when part of the
// graph dies.
func (g *Graph) InjectError(element, text string) error {
	if r := g.current(); r != nil {
		if _, err := r.pipeline.GetElementByName(element); err == nil {
			return r.injectError(element, text)
		}
	}
	for _, c := range g.cams {
		if cr := c.run(); cr != nil {
			if err := cr.injectError(element, text); err == nil {
				return nil
			}
		}
	}
	return fmt.Errorf("no running element %s", element)
}

func (g *Graph) recordError(e GraphError) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.errCount++
	if len(g.errs) == keptErrors {
		g.errs = append(g.errs[:0], g.errs[1:]...)
	}
	g.errs = append(g.errs, e)
}
