package compositor

import (
	"context"
	"time"

	"github.com/go-gst/go-gst/gst"

	"github.com/pipcam/pipcam/media"
)

// pollInterval bounds how long the pull and bus loops block, so they notice
// Close promptly.
const pollInterval = 100 * time.Millisecond

// pullAccessUnits takes each encoded picture from the appsink and hands it to
// the subscribers. It is the only reader of the appsink.
func (g *Graph) pullAccessUnits(ctx context.Context, started chan<- struct{}) {
	defer g.wg.Done()
	first := true
	frame := time.Second / time.Duration(max(g.cfg.Output.Framerate, 1))
	for ctx.Err() == nil {
		asked := time.Now()
		sample := g.auSink.TryPullSample(gst.ClockTime(pollInterval))
		if sample == nil {
			// Before the appsink is started it answers at once: back off
			// instead of spinning on its lock while GStreamer starts it.
			if time.Since(asked) < pollInterval/10 {
				time.Sleep(pollInterval / 10)
			}
			continue
		}
		buf := sample.GetBuffer()
		if buf == nil {
			continue
		}
		au := media.AccessUnit{
			Data:     buf.Bytes(), // a copy: the GstBuffer goes back to GStreamer
			PTS:      clockDuration(buf.PresentationTimestamp()),
			Duration: clockDuration(buf.Duration()),
			Keyframe: !buf.HasFlags(gst.BufferFlagDeltaUnit),
		}
		if au.Duration <= 0 {
			au.Duration = frame
		}
		g.aus.Add(1)
		g.auBytes.Add(uint64(len(au.Data)))
		if au.Keyframe {
			g.keyAUs.Add(1)
		}
		g.lastAUns.Store(time.Now().UnixNano())
		g.fanout.publish(au)
		if first {
			first = false
			close(started)
		}
	}
}

func clockDuration(t gst.ClockTime) time.Duration {
	if t == gst.ClockTimeNone {
		return -1
	}
	return time.Duration(t)
}
