package compositor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-gst/go-gst/gst"
	"github.com/go-gst/go-gst/gst/app"
)

// run is one started GStreamer pipeline built from the plan. The Graph owns
// it and replaces it when it dies (a fatal error or end-of-stream after the
// first picture); everything viewers hold on to lives in the Graph.
type run struct {
	g        *Graph
	pipeline *gst.Pipeline
	mixer    *gst.Element
	overlay  *gst.Element
	encoder  *gst.Element
	flvMux   *gst.Element
	flvSink  *gst.Element
	auSink   *app.Sink
	// auWake and busWake say there is a sample or a bus message to take
	// (wake_au.go, wake.go); auQueue makes the first.
	auWake, busWake notifier
	auQueue         *auQueue
	settings        uint64 // the Graph's settings count it was given
	kbps            int    // the encoder's bitrate
	// The JPEG branch (nil when turned off); the Graph's snapshotter
	// attaches to it once the run plays.
	jpegValve, jpegSink *gst.Element

	// ptsBase is added to this run's PTS (counted from its first picture),
	// so a rebuilt graph continues the timeline viewers already follow.
	ptsBase time.Duration

	started  chan struct{} // closed at the first access unit
	startErr chan error    // the error that stops start-up
	died     chan error    // the fatal error after start-up
	pictures bool          // set by the pull loop before started closes

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startRun parses the plan's mixer pipeline, applies the Graph's current
// settings (text, layout, overlay, bitrate) and waits until the first
// access unit is out of the encoder. The cameras' pipelines are not part of
// it: they keep running across rebuilds.
func (g *Graph) startRun(ctx context.Context, ptsBase time.Duration) (*run, error) {
	pipeline, err := gst.NewPipelineFromString(g.plan.Description.Part("").String())
	if err != nil {
		return nil, fmt.Errorf("parse graph: %w", err)
	}
	r := &run{
		g: g, pipeline: pipeline, ptsBase: ptsBase, kbps: g.cfg.Encoder.BitrateKbps,
		started:  make(chan struct{}),
		startErr: make(chan error, 1),
		died:     make(chan error, 1),
	}
	if err := r.lookupElements(); err != nil {
		return nil, err
	}
	r.auWake, r.busWake = newNotifier(), newNotifier()
	notifyBus(pipeline.GetPipelineBus(), busTypes, r.busWake)
	r.busWake.notify() // what was posted before the handler: pop it
	if err := g.applySettings(r); err != nil {
		return nil, err
	}
	if err := r.dropFLVTags(); err != nil {
		return nil, err
	}
	// A new FLV client starts at the next keyframe: make that one now.
	if _, err := r.flvSink.Connect("client-added", func(*gst.Element) { g.RequestKeyframe() }); err != nil {
		return nil, fmt.Errorf("watch FLV clients: %w", err)
	}

	// Prompt until the first picture: start-up waits for it.
	if r.auQueue, err = queueAUs(r.auSink, true, r.auWake); err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.wg.Add(2)
	go r.watchBus(runCtx)
	go r.pullAccessUnits(runCtx)

	if err := pipeline.SetState(gst.StatePlaying); err != nil {
		// The element that failed says why on the bus; prefer its words.
		select {
		case berr := <-r.startErr:
			err = berr
		case <-time.After(2 * time.Second):
		}
		r.close()
		return nil, fmt.Errorf("start graph: %w", err)
	}
	timer := time.NewTimer(StartTimeout)
	defer timer.Stop()
	select {
	case <-r.started:
		if r.jpegValve != nil {
			if err := g.jpeg.attach(r.jpegValve, r.jpegSink); err != nil {
				r.close()
				return nil, err
			}
		}
		return r, nil
	case err := <-r.startErr:
		r.close()
		return nil, err
	case <-timer.C:
		stuck := r.notPlaying()
		r.close()
		return nil, fmt.Errorf("start graph: %w after %s (not yet playing: %s)", ErrNoPicture, StartTimeout, stuck)
	case <-ctx.Done():
		r.close()
		return nil, ctx.Err()
	}
}

func (r *run) lookupElements() error {
	var err error
	get := func(name string) *gst.Element {
		e, e2 := r.pipeline.GetElementByName(name)
		if e2 != nil && err == nil {
			err = fmt.Errorf("graph has no element %s: %w", name, e2)
		}
		return e
	}
	r.mixer = get(nameMixer)
	r.overlay = get(nameOverlay)
	r.encoder = get(nameEncoder)
	r.flvMux = get(nameFLVMux)
	r.flvSink = get(nameFLVSink)
	auSink := get(nameAUSink)
	if r.g.cfg.JPEG.Enabled {
		r.jpegValve, r.jpegSink = get(nameJPEGValve), get(nameJPEGSink)
	}
	if err != nil {
		return err
	}
	r.auSink = app.SinkFromElement(auSink)
	return nil
}

// close stops the run's goroutines and the pipeline. Safe to call twice.
func (r *run) close() {
	if r.jpegValve != nil {
		r.g.jpeg.detach()
	}
	if r.cancel != nil {
		r.cancel()
	}
	r.wg.Wait()
	if r.auQueue != nil {
		r.auQueue.close()
		r.g.ringLost.Add(r.auQueue.dropped())
	}
	stopPipeline(r.pipeline)
}

// fail reports the error that ends this run after start-up (the first one
// counts; the Graph rebuilds once).
func (r *run) fail(err error) {
	select {
	case r.died <- err:
	default:
	}
}

// forceKeyUnit sends the upstream GstForceKeyUnit event into the encoder.
// The fields matter: x264enc ignores the structure without them.
func (r *run) forceKeyUnit() bool {
	st := gst.NewStructureFromString("GstForceKeyUnit, running-time=(guint64)18446744073709551615, all-headers=(boolean)true, count=(uint)0")
	return r.encoder.GetStaticPad("src").SendEvent(gst.NewCustomEvent(gst.EventTypeCustomUpstream, st))
}

// dropFLVTags keeps tag events away from flvmux. In streamable mode it
// answers each one (h264parse posts bitrate tags every few frames) with a
// fresh onMetaData tag, and tcpserversink takes that non-delta buffer as a
// place where a new client may start: mid-GOP, undecodable until the next
// IDR. Without them, clients start only at keyframes.
func (r *run) dropFLVTags() error {
	pads, err := r.flvMux.GetSinkPads()
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
func (r *run) notPlaying() string {
	elems, err := r.pipeline.GetElementsRecursive()
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

// injectError posts an error from a named element of the running pipeline,
// as if the element had failed.
func (r *run) injectError(element, text string) error {
	el, err := r.pipeline.GetElementByName(element)
	if err != nil {
		return fmt.Errorf("no element %s: %w", element, err)
	}
	if !el.PostMessage(gst.NewErrorMessage(el, errors.New(text), "injected by pipcam", nil)) {
		return fmt.Errorf("element %s: the bus refused the message", element)
	}
	return nil
}
