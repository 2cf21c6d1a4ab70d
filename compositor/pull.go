package compositor

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/go-gst/go-gst/gst"
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
	// Armed once pictures flow; each picture pushes it back.
	stall := time.NewTimer(stallTimeout)
	defer stall.Stop()
	// While nothing needs the pictures promptly, drain ticks instead of
	// the appsink waking the loop for each one.
	prompt := true // as queueAUs was told
	drain := time.NewTicker(idleDrain)
	drain.Stop()
	defer drain.Stop()
	var drainTick <-chan time.Time
	setPrompt := func(on bool) {
		if on == prompt {
			return
		}
		prompt = on
		r.auQueue.setPrompt(on)
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
			au, ok := r.auQueue.take()
			if !ok {
				if pulled {
					g.drains.Add(1)
				}
				if r.pictures && r.auQueue.ended() {
					// The encoded stream ended (every source ended, or one
					// was sent EOS): this pipeline will make no more pictures.
					r.fail(errors.New("the encoded stream reached end of stream"))
					return
				}
				break
			}
			stall.Reset(stallTimeout)
			if au.Duration <= 0 {
				au.Duration = frame
			}
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
