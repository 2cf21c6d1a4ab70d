package compositor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-gst/go-gst/gst"
)

// watchBus reads this run's bus. Every error is recorded for /api/status.
// Before the first picture an error stops start-up (naming the camera when
// it comes from a camera's chain). After it, an error in a camera's chain
// switches that camera to its placeholder so the stream goes on for every
// viewer; any other error, or end-of-stream, ends the run and the Graph
// builds a new one.
func (r *run) watchBus(ctx context.Context) {
	defer r.wg.Done()
	bus := r.pipeline.GetPipelineBus()
	for ctx.Err() == nil {
		msg := bus.TimedPopFiltered(gst.ClockTime(pollInterval), gst.MessageError|gst.MessageWarning|gst.MessageEOS)
		if msg == nil {
			continue
		}
		switch msg.Type() {
		case gst.MessageError:
			gerr := msg.ParseError()
			r.onError(msg.Source(), gerr.Error(), gerr.DebugString())
		case gst.MessageWarning:
			w := msg.ParseWarning()
			r.g.log.Warn("graph warning", "element", msg.Source(), "warning", w.Error(), "debug", w.DebugString())
		case gst.MessageEOS:
			r.g.log.Warn("graph reached end of stream")
			r.fail(errors.New("the graph reached end of stream"))
		}
	}
}

func (r *run) onError(element, text, debug string) {
	g := r.g
	cam := g.cameraOf(r.upstreamSource(element))
	g.recordError(GraphError{Time: time.Now(), Element: element, Message: text, Debug: debug, Camera: cameraName(cam)})
	if cam == nil {
		err := fmt.Errorf("graph element %s: %s", element, text)
		g.log.Error("graph error", "element", element, "error", text, "debug", debug)
		if r.pictures {
			r.fail(err)
		} else {
			r.stopStart(err)
		}
		return
	}
	err := fmt.Errorf("camera %s (%s): %s", cam.Camera.Name, describeCamera(cam), text)
	g.setSourceError(cam.Camera.Name, err.Error()+debugSuffix(debug))
	if !r.pictures {
		r.stopStart(err)
		return
	}
	g.log.Error("camera lost, showing its placeholder", "camera", cam.Camera.Name, "element", element, "error", text, "debug", debug)
	if perr := g.SetPlaceholder(cam.Camera.Name, true); perr != nil {
		g.log.Error("switch to placeholder", "camera", cam.Camera.Name, "error", perr)
	}
}

func (r *run) stopStart(err error) {
	select {
	case r.startErr <- err:
	default:
	}
}

// cameraOf finds the camera an element belongs to by its source name.
func (g *Graph) cameraOf(element string) *CameraPlan {
	for i := range g.plan.Cameras {
		if g.plan.Cameras[i].SourceName == element {
			return &g.plan.Cameras[i]
		}
	}
	return nil
}

func cameraName(cp *CameraPlan) string {
	if cp == nil {
		return ""
	}
	return cp.Camera.Name
}

func describeCamera(cp *CameraPlan) string {
	if cp.Camera.Device != "" {
		return string(cp.Camera.Type) + " " + cp.Camera.Device
	}
	return strings.TrimSpace(string(cp.Camera.Type) + " " + string(cp.Camera.Pattern))
}

// debugSuffix keeps GStreamer's debug text with the error: it usually says
// where and why ("streaming stopped, reason not-negotiated").
func debugSuffix(debug string) string {
	if debug == "" {
		return ""
	}
	return " (" + debug + ")"
}
