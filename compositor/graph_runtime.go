package compositor

import (
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-gst/go-gst/gst"
	"github.com/go-gst/go-gst/gst/app"

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

// Graph is the running GStreamer graph: capture, composite, one encode.
type Graph struct {
	cfg  *configs.Config
	plan *Plan
	log  *slog.Logger

	pipeline *gst.Pipeline
	mixer    *gst.Element
	overlay  *gst.Element
	encoder  *gst.Element
	flvMux   *gst.Element
	flvSink  *gst.Element
	auSink   *app.Sink
	jpeg     *snapshotter
	// cardTexts are the placeholder cards' textoverlays, in camera order.
	cardTexts []*gst.Element

	keyframes *keyframer
	fanout    fanout

	mu          sync.Mutex
	layout      configs.Layout
	text        string
	bitrateKbps int
	placeholder map[string]bool
	sourceErr   map[string]string

	started  time.Time
	aus      atomic.Uint64
	keyAUs   atomic.Uint64
	auBytes  atomic.Uint64
	lastAUns atomic.Int64

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// StartTimeout bounds how long New waits for the first encoded picture.
const StartTimeout = 15 * time.Second

// ErrNoPicture is the start failure where nothing failed but no picture came.
var ErrNoPicture = errors.New("no picture from the encoder")

// New builds the graph from a validated config, starts it and waits until the
// first access unit is out of the encoder, so a camera that cannot start is
// an error here that names it.
func New(ctx context.Context, cfg *configs.Config, log *slog.Logger) (*Graph, error) {
	initGStreamer()
	plan, err := Build(cfg, Exists)
	if err != nil {
		return nil, err
	}
	pipeline, err := gst.NewPipelineFromString(plan.Description.String())
	if err != nil {
		return nil, fmt.Errorf("parse graph: %w", err)
	}
	g := &Graph{
		cfg: cfg, plan: plan, log: log, pipeline: pipeline,
		layout:      cfg.Layout,
		bitrateKbps: cfg.Encoder.BitrateKbps,
		placeholder: map[string]bool{},
		sourceErr:   map[string]string{},
	}
	if err := g.lookupElements(); err != nil {
		return nil, err
	}
	g.keyframes = newKeyframer(cfg.Encoder.KeyframeMinGap.D(), g.forceKeyUnit)
	if err := g.SetText(cfg.Overlay.Text); err != nil {
		return nil, err
	}
	for i, cp := range plan.Cameras {
		if err := g.cardTexts[i].SetProperty("text", "camera "+cp.Camera.Name+": no signal"); err != nil {
			return nil, fmt.Errorf("placeholder text for camera %s: %w", cp.Camera.Name, err)
		}
	}
	if err := g.dropFLVTags(); err != nil {
		return nil, err
	}
	// A new FLV client starts at the next keyframe: make that one now.
	if _, err := g.flvSink.Connect("client-added", func(*gst.Element) { g.RequestKeyframe() }); err != nil {
		return nil, fmt.Errorf("watch FLV clients: %w", err)
	}

	runCtx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	started := make(chan struct{})
	startErr := make(chan error, 1)
	g.wg.Add(2)
	go g.watchBus(runCtx, startErr)
	go g.pullAccessUnits(runCtx, started)

	g.started = time.Now()
	if err := pipeline.SetState(gst.StatePlaying); err != nil {
		// The element that failed says why on the bus; prefer its words.
		select {
		case berr := <-startErr:
			err = berr
		case <-time.After(2 * time.Second):
		}
		g.Close()
		return nil, fmt.Errorf("start graph: %w", err)
	}
	timer := time.NewTimer(StartTimeout)
	defer timer.Stop()
	select {
	case <-started:
		log.Info("graph playing", "encoder", plan.Encoder, "width", cfg.Output.Width,
			"height", cfg.Output.Height, "fps", cfg.Output.Framerate, "bitrate_kbps", cfg.Encoder.BitrateKbps)
		return g, nil
	case err := <-startErr:
		g.Close()
		return nil, err
	case <-timer.C:
		stuck := g.notPlaying()
		g.Close()
		return nil, fmt.Errorf("start graph: %w after %s (not yet playing: %s)", ErrNoPicture, StartTimeout, stuck)
	case <-ctx.Done():
		g.Close()
		return nil, ctx.Err()
	}
}

func (g *Graph) lookupElements() error {
	var err error
	get := func(name string) *gst.Element {
		e, e2 := g.pipeline.GetElementByName(name)
		if e2 != nil && err == nil {
			err = fmt.Errorf("graph has no element %s: %w", name, e2)
		}
		return e
	}
	g.mixer = get(nameMixer)
	g.overlay = get(nameOverlay)
	g.encoder = get(nameEncoder)
	g.flvMux = get(nameFLVMux)
	g.flvSink = get(nameFLVSink)
	auSink := get(nameAUSink)
	for _, cp := range g.plan.Cameras {
		g.cardTexts = append(g.cardTexts, get(cp.PlaceholderText))
	}
	if err != nil {
		return err
	}
	g.auSink = app.SinkFromElement(auSink)
	g.jpeg, err = g.lookupJPEG()
	return err
}

// Close stops the graph and every goroutine it started. It is safe to call
// more than once.
func (g *Graph) Close() {
	if g.cancel != nil {
		g.cancel()
	}
	g.wg.Wait()
	g.keyframes.Close()
	g.jpeg.close()
	_ = g.pipeline.SetState(gst.StateNull)
	g.fanout.closeAll()
}

// Plan is what the graph was built from.
func (g *Graph) Plan() *Plan { return g.plan }

// Subscribe delivers every access unit from now on until cancel is called. A
// subscriber that falls behind loses access units; the graph never waits.
func (g *Graph) Subscribe(buffer int) (<-chan media.AccessUnit, func()) {
	return g.fanout.subscribe(buffer)
}

// RequestKeyframe asks for an IDR at the next frame, rate-limited.
func (g *Graph) RequestKeyframe() { g.keyframes.Request() }

// forceKeyUnit sends the upstream GstForceKeyUnit event into the encoder.
// The fields matter: x264enc ignores the structure without them.
func (g *Graph) forceKeyUnit() {
	st := gst.NewStructureFromString("GstForceKeyUnit, running-time=(guint64)18446744073709551615, all-headers=(boolean)true, count=(uint)0")
	ev := gst.NewCustomEvent(gst.EventTypeCustomUpstream, st)
	if !g.encoder.GetStaticPad("src").SendEvent(ev) {
		g.log.Warn("encoder refused a keyframe request")
	}
}

// SetText replaces the overlay text while playing. The text is shown as it
// is: Pango markup in it is escaped, not interpreted.
func (g *Graph) SetText(text string) error {
	if err := g.overlay.SetProperty("text", html.EscapeString(text)); err != nil {
		return fmt.Errorf("set overlay text: %w", err)
	}
	g.mu.Lock()
	g.text = text
	g.mu.Unlock()
	return nil
}

// Text is the overlay text now shown.
func (g *Graph) Text() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.text
}

// Layout is the layout now shown.
func (g *Graph) Layout() configs.Layout {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.layout
}

// SetLayout validates a layout and moves the compositor pads to it while
// playing: no renegotiation, the next composited frame shows it.
func (g *Graph) SetLayout(l configs.Layout) error {
	if err := l.Validate(g.cfg.CameraNames()); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.layout = l
	return g.applyPadsLocked()
}

// SetPlaceholder shows camera's "no signal" card instead of its picture, or
// its picture again. It is the switch for cameras that come and go.
func (g *Graph) SetPlaceholder(camera string, on bool) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	found := false
	for _, cp := range g.plan.Cameras {
		found = found || cp.Camera.Name == camera
	}
	if !found {
		return fmt.Errorf("no camera %q", camera)
	}
	g.placeholder[camera] = on
	return g.applyPadsLocked()
}

// applyPadsLocked sets every compositor pad from the layout and the
// placeholder switches. g.mu is held.
func (g *Graph) applyPadsLocked() error {
	geo := Geometry(g.layout, g.cfg.Output, g.cfg.Cameras)
	var errs []error
	for _, cp := range g.plan.Cameras {
		cam, card := geo[cp.Camera.Name], hidden(geo[cp.Camera.Name])
		if g.placeholder[cp.Camera.Name] {
			cam, card = card, cam
		}
		errs = append(errs, g.setPad(cp.Pad, cam), g.setPad(cp.PlaceholderPad, card))
	}
	return errors.Join(errs...)
}

func (g *Graph) setPad(name string, geo PadGeometry) error {
	pad := g.mixer.GetStaticPad(name)
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
	for _, cp := range g.plan.Cameras {
		if cp.Camera.Name != camera {
			continue
		}
		pad := g.mixer.GetStaticPad(cp.Pad)
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
	return PadGeometry{}, fmt.Errorf("no camera %q", camera)
}

// SetBitrate changes the encoder's target bitrate while playing, the knob
// bandwidth adaptation turns.
func (g *Graph) SetBitrate(kbps int) error {
	if kbps < 50 || kbps > 20000 {
		return fmt.Errorf("bitrate %d kbit/s is outside 50-20000", kbps)
	}
	prop, val := bitrateSetting(g.plan.Encoder, kbps)
	if s, ok := val.(string); ok { // v4l2h264enc takes a GstStructure
		val = gst.NewStructureFromString(s)
	}
	if err := g.encoder.SetProperty(prop, val); err != nil {
		return fmt.Errorf("set %s %s: %w", g.plan.Encoder, prop, err)
	}
	g.mu.Lock()
	g.bitrateKbps = kbps
	g.mu.Unlock()
	return nil
}

// FLVPort is the TCP port the FLV server listens on (useful with port 0).
func (g *Graph) FLVPort() int {
	v, err := g.flvSink.GetProperty("current-port")
	if err != nil {
		return 0
	}
	p, _ := v.(int)
	return p
}

// dropFLVTags keeps tag events away from flvmux. In streamable mode it
// answers each one (h264parse posts bitrate tags every few frames) with a
// fresh onMetaData tag, and tcpserversink takes that non-delta buffer as a
// place where a new client may start: mid-GOP, undecodable until the next
// IDR. Without them, clients start only at keyframes.
func (g *Graph) dropFLVTags() error {
	pads, err := g.flvMux.GetSinkPads()
	if err != nil || len(pads) != 1 {
		return fmt.Errorf("flvmux: want its one video pad, have %d (%v)", len(pads), err)
	}
	pads[0].AddProbe(gst.PadProbeTypeEventDownstream, func(_ *gst.Pad, info *gst.PadProbeInfo) gst.PadProbeReturn {
		if ev := info.GetEvent(); ev != nil && ev.Type() == gst.EventTypeTag {
			return gst.PadProbeDrop
		}
		return gst.PadProbeOK
	})
	return nil
}

// notPlaying lists the elements that have not reached PLAYING, to say where
// a graph that produces nothing is stuck.
func (g *Graph) notPlaying() string {
	elems, err := g.pipeline.GetElementsRecursive()
	if err != nil {
		return err.Error()
	}
	var names []string
	for _, e := range elems {
		if st := e.GetCurrentState(); st != gst.StatePlaying {
			names = append(names, e.GetName()+"="+st.String())
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
