package compositor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-gst/go-gst/gst"
)

// busSweep is how often watchBus looks at the bus without a wake-up.
const busSweep = time.Second

// busTypes are the messages watchBus handles; notifyBus drops the rest.
const busTypes = gst.MessageError | gst.MessageWarning | gst.MessageEOS

// watchBus reads the mixer pipeline's bus. Every error is recorded for
// /api/status. Before the first picture an error stops start-up; after it,
// an error or end-of-stream ends the run and the Graph builds a new one.
// The cameras are pipelines of their own, each watched by its camera: a
// lost camera never reaches this bus.
func (r *run) watchBus(ctx context.Context) {
	defer r.wg.Done()
	bus := r.pipeline.GetPipelineBus()
	// The sync handler's wake-up is the fast path; once a second the loop
	// looks anyway. One CI run lost an injected error for 30 s (the graph
	// never rebuilt) with the wake-up alone, and the cause is not found:
	// an error must never wait on it.
	sweep := time.NewTicker(busSweep)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.busWake: // wake.go
		case <-sweep.C:
		}
		for msg := bus.TimedPopFiltered(0, busTypes); msg != nil; msg = bus.TimedPopFiltered(0, busTypes) {
			r.onBusMessage(msg)
		}
	}
}

// onBusMessage handles one error, warning or end of stream.
func (r *run) onBusMessage(msg *gst.Message) {
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

func (r *run) onError(element, text, debug string) {
	g := r.g
	g.recordError(GraphError{Time: time.Now(), Element: element, Message: text, Debug: debug})
	err := fmt.Errorf("graph element %s: %s", element, text)
	g.log.Error("graph error", "element", element, "error", text, "debug", debug)
	if r.pictures {
		r.fail(err)
	} else {
		r.stopStart(err)
	}
}

func (r *run) stopStart(err error) {
	select {
	case r.startErr <- err:
	default:
	}
}
