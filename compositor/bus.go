package compositor

import (
	"context"
	"fmt"
	"strings"

	"github.com/go-gst/go-gst/gst"
)

// watchBus logs what the graph reports. Before the first picture an error is
// a start failure (sent on startErr, naming the camera); after it, an error
// from a camera switches that camera to its placeholder so the stream goes
// on for every viewer.
func (g *Graph) watchBus(ctx context.Context, startErr chan<- error) {
	defer g.wg.Done()
	bus := g.pipeline.GetPipelineBus()
	for ctx.Err() == nil {
		msg := bus.TimedPopFiltered(gst.ClockTime(pollInterval), gst.MessageError|gst.MessageWarning|gst.MessageEOS)
		if msg == nil {
			continue
		}
		switch msg.Type() {
		case gst.MessageError:
			gerr := msg.ParseError()
			g.onError(msg.Source(), gerr.Error(), gerr.DebugString(), startErr)
		case gst.MessageWarning:
			w := msg.ParseWarning()
			g.log.Warn("graph warning", "element", msg.Source(), "warning", w.Error())
		case gst.MessageEOS:
			g.log.Warn("graph reached end of stream")
		}
	}
}

func (g *Graph) onError(element, text, debug string, startErr chan<- error) {
	cam := g.cameraOf(element)
	if cam == nil {
		err := fmt.Errorf("graph element %s: %s", element, text)
		g.log.Error("graph error", "element", element, "error", text, "debug", debug)
		g.recordError("graph", err.Error())
		select {
		case startErr <- err:
		default:
		}
		return
	}
	err := fmt.Errorf("camera %s (%s): %s", cam.Camera.Name, describeCamera(cam), text)
	g.recordError(cam.Camera.Name, err.Error())
	if g.aus.Load() == 0 {
		select {
		case startErr <- err:
		default:
		}
		return
	}
	g.log.Error("camera lost, showing its placeholder", "camera", cam.Camera.Name, "error", text)
	if perr := g.SetPlaceholder(cam.Camera.Name, true); perr != nil {
		g.log.Error("switch to placeholder", "camera", cam.Camera.Name, "error", perr)
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

func describeCamera(cp *CameraPlan) string {
	if cp.Camera.Device != "" {
		return string(cp.Camera.Type) + " " + cp.Camera.Device
	}
	return strings.TrimSpace(string(cp.Camera.Type) + " " + string(cp.Camera.Pattern))
}

func (g *Graph) recordError(source, msg string) {
	g.mu.Lock()
	g.sourceErr[source] = msg
	g.mu.Unlock()
}
