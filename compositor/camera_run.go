package compositor

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-gst/go-gst/gst"

	"github.com/pipcam/pipcam/configs"
)

// cameraRun is one started pipeline of a camera: parsed, playing, its bus
// and its pictures watched. The camera replaces it when it fails.
type cameraRun struct {
	pipeline *gst.Pipeline
	died     chan error    // the first error or end of stream
	first    chan struct{} // closed at the first picture
	stop     func()        // ends the helpers (bus reader, snapshot poller)
}

// CameraError is a GStreamer error from a camera's pipeline.
type CameraError struct {
	Element string
	Message string
	Debug   string
}

func (e *CameraError) Error() string {
	return fmt.Sprintf("%s: %s%s", e.Element, e.Message, debugSuffix(e.Debug))
}

// startRun builds the camera's pipeline (for a V4L2 camera from the modes
// it offers now), sets the password on its source and starts it. It
// returns once the pipeline is playing or has failed to start.
func (c *camera) startRun() (*cameraRun, error) {
	cp := c.plan
	var mode *V4L2Choice
	if cp.Camera.Type == configs.CameraV4L2 {
		m, err := c.chooseMode()
		if err != nil {
			return nil, err
		}
		mode = &m
	}
	chain, err := cameraChain(cp, c.out, c.graph, mode)
	if err != nil {
		return nil, err
	}
	var d Description
	if err := d.Add(chain...); err != nil {
		return nil, err
	}
	pipeline, err := gst.NewPipelineFromString(d.String())
	if err != nil {
		return nil, fmt.Errorf("build pipeline: %w", err)
	}
	r := &cameraRun{pipeline: pipeline, died: make(chan error, 1), first: make(chan struct{})}
	if err := c.setCredentials(pipeline); err != nil {
		return nil, err
	}
	if err := r.watchPictures(cp.SinkName, c.meter); err != nil {
		return nil, err
	}
	stopBus := r.watchBus(c)
	stopPoll := func() {}
	if cp.Camera.Type == configs.CameraSnapshot {
		src, err := pipeline.GetElementByName(cp.SourceName)
		if err != nil {
			stopBus()
			return nil, fmt.Errorf("snapshot source: %w", err)
		}
		stopPoll = startSnapshotPoller(cp.Camera, c.out, src, r.fail)
	}
	r.stop = func() { stopPoll(); stopBus() }
	if err := pipeline.SetState(gst.StatePlaying); err != nil {
		// The element that failed says why on the bus; prefer its words.
		select {
		case berr := <-r.died:
			err = berr
		case <-time.After(time.Second):
		}
		r.close()
		return nil, err
	}
	return r, nil
}

// chooseMode asks the device for its modes and picks one.
func (c *camera) chooseMode() (V4L2Choice, error) {
	cam := c.plan.Camera
	modes, err := c.probe(cam.Device)
	if err != nil {
		return V4L2Choice{}, err
	}
	w, h, fps := cam.EffectiveSize(c.out)
	m, err := ChooseV4L2Mode(modes, cam.Format, w, h, fps)
	if err != nil {
		return V4L2Choice{}, fmt.Errorf("%s: %w", cam.Device, err)
	}
	c.mu.Lock()
	changed := c.mode != m.String()
	c.mode = m.String()
	c.mu.Unlock()
	if changed {
		c.log.Info("camera mode chosen", "device", cam.Device, "mode", m.String())
	}
	return m, nil
}

// setCredentials gives an IP camera's source its password, which is never
// part of a description (those are printed and logged).
func (c *camera) setCredentials(p *gst.Pipeline) error {
	cam := c.plan.Camera
	if cam.Password == "" || cam.Type == configs.CameraSnapshot {
		return nil
	}
	src, err := p.GetElementByName(c.plan.SourceName)
	if err != nil {
		return fmt.Errorf("camera source: %w", err)
	}
	if err := src.SetProperty("user-pw", cam.Password.Reveal()); err != nil {
		return fmt.Errorf("set the camera's password: %w", err)
	}
	return nil
}

// watchPictures counts the pictures reaching the boundary in meter (in C,
// framemeter.go); the first one also opens r.first, from a Go probe that
// then removes itself.
func (r *cameraRun) watchPictures(sinkName string, meter *frameMeter) error {
	sink, err := r.pipeline.GetElementByName(sinkName)
	if err != nil {
		return fmt.Errorf("camera sink: %w", err)
	}
	pad := sink.GetStaticPad("sink")
	meter.watch(pad)
	var once sync.Once
	pad.AddProbe(gst.PadProbeTypeBuffer, func(*gst.Pad, *gst.PadProbeInfo) gst.PadProbeReturn {
		once.Do(func() { close(r.first) })
		return gst.PadProbeRemove
	})
	return nil
}

// stopStructure is posted on a run's own bus to end its reader, which
// otherwise blocks for the next message (no polling, no wake-ups).
const stopStructure = "pipcam-stop"

// watchBus reads the run's bus: the first error or end of stream ends the
// run. It returns the function that stops the reader.
func (r *cameraRun) watchBus(c *camera) (stop func()) {
	bus := r.pipeline.GetPipelineBus()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			msg := bus.TimedPopFiltered(gst.ClockTimeNone, gst.MessageError|gst.MessageEOS|gst.MessageApplication)
			if msg == nil { // the bus is flushing: nothing more will come
				return
			}
			switch msg.Type() {
			case gst.MessageApplication:
				if st := msg.GetStructure(); st != nil && st.Name() == stopStructure {
					return
				}
			case gst.MessageError:
				gerr := msg.ParseError()
				c.recordGstError(msg.Source(), gerr.Error(), gerr.DebugString())
				r.fail(&CameraError{Element: msg.Source(), Message: gerr.Error(), Debug: gerr.DebugString()})
			case gst.MessageEOS:
				r.fail(ErrCameraEOS)
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			bus.Post(gst.NewApplicationMessage(r.pipeline, gst.NewStructure(stopStructure)))
			<-done
		})
	}
}

func (r *cameraRun) fail(err error) {
	select {
	case r.died <- err:
	default:
	}
}

// close stops the helpers, then the pipeline. Safe to call twice.
func (r *cameraRun) close() {
	if r.stop != nil {
		r.stop()
	}
	stopPipeline(r.pipeline)
}

// injectError posts an error from a named element of the run.
func (r *cameraRun) injectError(element, text string) error {
	el, err := r.pipeline.GetElementByName(element)
	if err != nil {
		return err
	}
	if !el.PostMessage(gst.NewErrorMessage(el, errors.New(text), "injected by pipcam", nil)) {
		return fmt.Errorf("element %s: the bus refused the message", element)
	}
	return nil
}

// cardText is what a lost camera's card says: the camera, that pipcam is
// on it, and why in a few words.
func cardText(name string, err error) string {
	reason := err.Error()
	var ce *CameraError
	if errors.As(err, &ce) {
		reason = ce.Message
	}
	reason = strings.TrimSuffix(strings.TrimSpace(strings.SplitN(reason, "\n", 2)[0]), ".")
	if r := []rune(reason); len(r) > 60 {
		reason = string(r[:57]) + "..."
	}
	return "camera " + name + ": reconnecting…\n" + reason
}

// debugSuffix keeps GStreamer's debug text with the error: it usually says
// where and why ("streaming stopped, reason not-negotiated").
func debugSuffix(debug string) string {
	if debug == "" {
		return ""
	}
	return " (" + debug + ")"
}
