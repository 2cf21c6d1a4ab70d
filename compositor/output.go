package compositor

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-gst/go-gst/gst"
	"github.com/go-gst/go-gst/gst/app"

	"github.com/pipcam/pipcam/media"
)

// Element names in an output pipeline.
const (
	nameOutSrc   = "outsrc"
	nameOutAudio = "outaudio" // the silent audio's appsrc, in a push
	nameOutMux   = "outmux"
	nameOutSink  = "outsink"
)

// outputBuffer is how many access units an output's subscription holds:
// seconds of video, so a busy moment never costs it a picture.
const outputBuffer = 128

// ErrOutputEOS ends an output whose pipeline reached end of stream by
// itself.
var ErrOutputEOS = errors.New("the output pipeline reached end of stream")

// output is one started output pipeline (a push or a recording): its own
// GStreamer pipeline, fed the Graph's access units (the one encode, never
// a second) through its appsrc by a goroutine of its own. Its errors, a
// stalled server or a full disk end it alone: the Graph never waits for
// it (its subscription drops what it cannot take, like any viewer's) and
// never sees its bus. It starts at a keyframe; when it falls behind (its
// appsrc holds more than maxBacklog bytes) it skips to the next keyframe
// once it has caught up.
type output struct {
	g          *Graph
	pipeline   *gst.Pipeline
	src        *app.Source
	clock      *gst.Clock
	maxBacklog uint64
	// audio, when set, takes silence (a push's silent track).
	audio   *app.Source
	silence silentAudio
	// redact cleans GStreamer's words before they are kept or logged (a
	// stream key in an RTMP error).
	redact func(string) string

	died    chan error    // the first error, or end of stream before finish
	eos     chan struct{} // closed when the end of stream reaches the sink
	eosOnce sync.Once
	ending  atomic.Bool // finish sent end of stream: it is expected

	pushed  atomic.Uint64 // bytes handed to the pipeline
	skipped atomic.Uint64 // access units skipped to start at a keyframe

	stopBus  func()
	stop     chan struct{} // closed to end the feeders
	stopOnce sync.Once
	feeders  sync.WaitGroup // the video feeder, and the silence's
}

// outputOptions describe an output pipeline to startOutput.
type outputOptions struct {
	desc       *Description
	maxBacklog uint64
	redact     func(string) string
	// setup gives the parsed pipeline what must never be in a printed
	// description (a stream key, a file descriptor).
	setup func(*gst.Pipeline) error
	// silence, when set, is fed to the appsrc named outaudio.
	silence *silentAudio
}

// startOutput parses and starts an output pipeline and begins feeding it.
func startOutput(g *Graph, o outputOptions) (*output, error) {
	if o.redact == nil {
		o.redact = func(s string) string { return s }
	}
	pipeline, err := gst.NewPipelineFromString(o.desc.String())
	if err != nil {
		return nil, fmt.Errorf("build output pipeline: %w", err)
	}
	srcEl, err := pipeline.GetElementByName(nameOutSrc)
	if err != nil {
		return nil, fmt.Errorf("output pipeline has no %s: %w", nameOutSrc, err)
	}
	out := &output{
		g: g, pipeline: pipeline, src: app.SrcFromElement(srcEl), clock: pipeline.GetPipelineClock(),
		maxBacklog: o.maxBacklog, redact: o.redact,
		died: make(chan error, 1), eos: make(chan struct{}), stop: make(chan struct{}),
	}
	if o.silence != nil {
		el, err := pipeline.GetElementByName(nameOutAudio)
		if err != nil {
			return nil, fmt.Errorf("output pipeline has no %s: %w", nameOutAudio, err)
		}
		out.audio, out.silence = app.SrcFromElement(el), *o.silence
		out.audio.SetCaps(gst.NewCapsFromString(o.silence.caps))
	}
	if o.setup != nil {
		if err := o.setup(pipeline); err != nil {
			return nil, err
		}
	}
	out.stopBus = watchOutputBus(pipeline, out.onMessage)
	if err := pipeline.SetState(gst.StatePlaying); err != nil {
		// The element that failed says why on the bus; prefer its words.
		select {
		case berr := <-out.died:
			err = berr
		case <-time.After(time.Second):
		}
		out.close()
		return nil, err
	}
	aus, unsubscribe := g.Subscribe(outputBuffer)
	out.feeders.Add(1)
	go out.feed(aus, unsubscribe)
	if out.audio != nil {
		out.feeders.Add(1)
		go out.feedSilence(out.stop)
	}
	return out, nil
}

// runningTime is the output pipeline's running time now: what its
// buffers are stamped in.
func (o *output) runningTime() time.Duration {
	return time.Duration(o.clock.GetTime() - o.pipeline.GetBaseTime())
}

// onMessage takes the bus's errors and end of stream.
func (o *output) onMessage(msg *gst.Message) {
	switch msg.Type() {
	case gst.MessageError:
		gerr := msg.ParseError()
		o.fail(&OutputError{Element: msg.Source(), Message: o.redact(gerr.Error()), Debug: o.redact(gerr.DebugString())})
	case gst.MessageEOS:
		o.eosOnce.Do(func() { close(o.eos) })
		if !o.ending.Load() {
			o.fail(ErrOutputEOS)
		}
	}
}

func (o *output) fail(err error) {
	select {
	case o.died <- err:
	default:
	}
}

// feed hands every access unit to the appsrc, from a keyframe on.
func (o *output) feed(aus <-chan media.AccessUnit, unsubscribe func()) {
	defer o.feeders.Done()
	defer unsubscribe()
	var tl timeline
	waitKey, asked := true, false
	for {
		var au media.AccessUnit
		var ok bool
		select {
		case <-o.stop:
			return
		case au, ok = <-aus:
			if !ok {
				return // the graph is closing
			}
		}
		// A full subscription may have lost access units: without them
		// the pictures up to the next keyframe cannot be decoded.
		if len(aus) >= cap(aus)-1 {
			waitKey = true
		}
		if o.src.GetCurrentLevelBytes() > o.maxBacklog {
			// The sink is not keeping up (a stalled server, a slow
			// disk): skip, and start again at a keyframe once it has
			// caught up. No keyframe is asked for meanwhile: viewers
			// would pay for it.
			waitKey, asked = true, false
			o.skipped.Add(1)
			continue
		}
		if waitKey && !au.Keyframe {
			if !asked {
				o.g.RequestKeyframe()
				asked = true
			}
			o.skipped.Add(1)
			continue
		}
		waitKey = false
		buf := gst.NewBufferFromBytes(au.Data)
		buf.SetPresentationTimestamp(gst.ClockTime(tl.stamp(au.PTS, au.Keyframe, o.runningTime())))
		buf.SetDuration(gst.ClockTime(au.Duration))
		if !au.Keyframe {
			buf.SetFlags(gst.BufferFlagDeltaUnit)
		}
		ret := o.src.PushBuffer(buf)
		releaseBuffer(buf)
		if ret != gst.FlowOK {
			o.fail(fmt.Errorf("the output pipeline refused a picture: %s", ret))
			return
		}
		o.pushed.Add(uint64(len(au.Data)))
	}
}

// finish ends the output cleanly: no more pictures, end of stream
// through the pipeline (a muxer writes its index, an RTMP client says
// goodbye), then the pipeline stops. It waits at most timeout for the end
// of stream and returns the error that stopped it first, if any.
func (o *output) finish(timeout time.Duration) error {
	o.stopFeed()
	o.ending.Store(true)
	var err error
	ret := o.src.EndStream()
	if o.audio != nil && ret == gst.FlowOK {
		ret = o.audio.EndStream()
	}
	if ret != gst.FlowOK {
		err = fmt.Errorf("end the output stream: %s", ret)
	} else {
		select {
		case <-o.eos:
		case err = <-o.died:
		case <-time.After(timeout):
			err = fmt.Errorf("the output did not finish within %s", timeout)
		}
	}
	o.close()
	return err
}

func (o *output) stopFeed() {
	o.stopOnce.Do(func() { close(o.stop) })
	o.feeders.Wait()
}

// close stops feeding and stops the pipeline at once. Safe to call twice.
// The bus reader goes first: a stopped pipeline's bus is flushing and
// would swallow the message that ends it.
func (o *output) close() {
	o.stopFeed()
	o.stopBus()
	stopPipeline(o.pipeline)
}

// element returns a named element of the output pipeline.
func (o *output) element(name string) *gst.Element {
	e, err := o.pipeline.GetElementByName(name)
	if err != nil {
		return nil
	}
	return e
}

// OutputError is a GStreamer error from an output pipeline, its text
// cleaned of secrets. Error is GStreamer's message for people ("Connection
// error: connection closed remotely"); Debug, where in GStreamer, goes to
// the log.
type OutputError struct {
	Element string
	Message string
	Debug   string
}

func (e *OutputError) Error() string { return e.Message }

// debugOf is an output error's debug text for the log ("" for others).
func debugOf(err error) string {
	var oe *OutputError
	if errors.As(err, &oe) {
		return oe.Element + debugSuffix(oe.Debug)
	}
	return ""
}

// watchOutputBus hands each error and end of stream of a pipeline's bus
// to onMessage until the returned stop is called (after the pipeline has
// stopped). It blocks on the bus: no polling.
func watchOutputBus(p *gst.Pipeline, onMessage func(*gst.Message)) (stop func()) {
	bus := p.GetPipelineBus()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			msg := bus.TimedPopFiltered(gst.ClockTimeNone, gst.MessageError|gst.MessageEOS|gst.MessageApplication)
			if msg == nil {
				return // flushing: nothing more will come
			}
			if msg.Type() == gst.MessageApplication {
				if st := msg.GetStructure(); st != nil && st.Name() == stopStructure {
					return
				}
				continue
			}
			onMessage(msg)
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			bus.Post(gst.NewApplicationMessage(p, gst.NewStructure(stopStructure)))
			<-done
		})
	}
}
