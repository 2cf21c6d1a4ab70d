package compositor

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/go-gst/go-gst/gst"

	"github.com/pipcam/pipcam/media"
)

// pollInterval bounds how long the JPEG pull loop blocks, so it notices
// Close promptly.
const pollInterval = 100 * time.Millisecond

// stallTimeout is how long a playing pipeline may go without a picture
// before it counts as dead and is rebuilt. A lost camera does not stall
// it (the live compositor goes on without that camera); a hung encoder does.
const stallTimeout = 10 * time.Second

// idleDrain is how often the pull loop takes the encoded pictures while
// nobody needs them as they come (no viewer, no push, no recording): the
// appsink holds them meanwhile (it keeps 30).
const idleDrain = 500 * time.Millisecond

// ErrStalled is the end of a pipeline that stopped making pictures.
var ErrStalled = errors.New("the graph stopped making pictures")

// pullAccessUnits takes each encoded picture from the appsink and hands it to
// the Graph's subscribers. It is the only reader of this run's appsink.
func (r *run) pullAccessUnits(ctx context.Context) {
	defer r.wg.Done()
	g := r.g
	frame := time.Second / time.Duration(max(g.cfg.Output.Framerate, 1))
	first := time.Duration(-1)
	var wall wallClock
	// Armed once pictures flow; each picture pushes it back.
	stall := time.NewTimer(stallTimeout)
	defer stall.Stop()
	// While nothing needs the pictures promptly, drain ticks instead of
	// the appsink waking the loop for each one.
	prompt := true // as notifyAUs was told
	drain := time.NewTicker(idleDrain)
	drain.Stop()
	defer drain.Stop()
	var drainTick <-chan time.Time
	setPrompt := func(on bool) {
		if on == prompt {
			return
		}
		prompt = on
		r.auWaker.setPrompt(on)
		if on {
			drain.Stop()
			drainTick = nil
		} else {
			drain.Reset(idleDrain)
			drainTick = drain.C
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-stall.C:
			if r.pictures {
				r.fail(fmt.Errorf("%w: none for %s", ErrStalled, stallTimeout))
				return
			}
			stall.Reset(stallTimeout)
			continue
		case <-g.fanout.promptChanged:
			if r.pictures {
				setPrompt(g.fanout.prompting())
			}
		case <-drainTick:
		case <-r.auWake: // wake_au.go
		}
		for pulled := false; ; pulled = true {
			sample := r.auSink.TryPullSample(0)
			if sample == nil {
				if pulled {
					g.drains.Add(1)
				}
				if r.pictures && r.auSink.IsEOS() {
					// The encoded stream ended (every source ended, or one
					// was sent EOS): this pipeline will make no more pictures.
					r.fail(errors.New("the encoded stream reached end of stream"))
					return
				}
				break
			}
			stall.Reset(stallTimeout)
			au, running, ok := accessUnit(sample)
			if !ok {
				continue
			}
			if au.Duration <= 0 {
				au.Duration = frame
			}
			au.Capture = wall.of(r.pipeline, running)
			if first < 0 {
				first = max(au.PTS, 0)
			}
			au.PTS = r.ptsBase + max(au.PTS-first, 0)
			g.published(au)
			if !r.pictures {
				r.pictures = true
				close(r.started)
				setPrompt(g.fanout.prompting())
			}
		}
	}
}

// accessUnit copies a sample's picture out and gives the sample and buffer
// back to GStreamer at once. go-gst would release them from Go finalizers,
// at the next garbage collection: meanwhile the encoder's buffers stay
// taken, and the Pi's hardware encoder has a small fixed pool of them.
// running is the picture's running time: its PTS through the sample's
// segment (encoders shift PTS by 1000 hours and their segment with it).
func accessUnit(sample *gst.Sample) (au media.AccessUnit, running time.Duration, ok bool) {
	defer release(sample)
	buf := sample.GetBuffer()
	if buf == nil {
		return media.AccessUnit{}, -1, false
	}
	defer releaseBuffer(buf)
	pts := buf.PresentationTimestamp()
	running = -1
	if seg := sample.GetSegment(); seg != nil && pts != gst.ClockTimeNone {
		if rt := seg.ToRunningTime(gst.FormatTime, uint64(pts)); rt != uint64(gst.ClockTimeNone) {
			running = time.Duration(rt)
		}
	}
	return media.AccessUnit{
		Data:     buf.Bytes(), // a copy
		PTS:      clockDuration(pts),
		Duration: clockDuration(buf.Duration()),
		Keyframe: !buf.HasFlags(gst.BufferFlagDeltaUnit),
	}, running, true
}

// wallClock maps a buffer's running time to the wall-clock time it was
// captured: running time + the pipeline's base time is a time of the
// pipeline clock; how far that lies behind the clock now is how long ago
// the picture was taken. The clock is only known once the pipeline plays.
type wallClock struct{ clock *gst.Clock }

func (w *wallClock) of(p *gst.Pipeline, running time.Duration) time.Time {
	if running < 0 {
		return time.Time{}
	}
	if w.clock == nil {
		if w.clock = p.GetClock(); w.clock == nil {
			return time.Time{}
		}
	}
	base := p.GetBaseTime()
	now := w.clock.GetTime()
	if base == gst.ClockTimeNone || now == gst.ClockTimeNone {
		return time.Time{}
	}
	// A picture is never taken in the future. One CI race run saw a
	// running time 29 ms ahead of the clock among the first pictures
	// (cause not found); it is read as "just now".
	ago := max(time.Duration(now)-time.Duration(base)-running, 0)
	return time.Now().Add(-ago)
}

// release drops our reference to a sample now instead of in a finalizer.
func release(s *gst.Sample) {
	runtime.SetFinalizer(s, nil)
	s.Unref()
}

// releaseBuffer drops the reference GetBuffer took.
func releaseBuffer(b *gst.Buffer) {
	runtime.SetFinalizer(b, nil)
	b.Unref()
}

func clockDuration(t gst.ClockTime) time.Duration {
	if t == gst.ClockTimeNone {
		return -1
	}
	return time.Duration(t)
}
