package compositor

import "time"

// maxLag is how far an output's pictures may fall behind its pipeline's
// clock before the timeline moves forward to meet it.
const maxLag = 500 * time.Millisecond

// timeline stamps access units for an output pipeline: the first at the
// running time it arrives, the next ones spaced as the encoder spaced
// them (its PTS), so the file or stream keeps the encoder's even timing
// and, in a push, sits on the same clock as the silent audio. A rebuilt
// graph continues its PTS across the seconds the rebuild took; the
// timeline then catches up with the clock at the next keyframe, so
// outputs count real time (a recording lasts as long as the print).
type timeline struct {
	offset  time.Duration
	last    time.Duration
	started bool
}

// stamp returns the output PTS of an access unit with the Graph's pts,
// arriving at running time now. Output PTS always rise.
func (t *timeline) stamp(pts time.Duration, keyframe bool, now time.Duration) time.Duration {
	if !t.started || keyframe && now-(pts+t.offset) > maxLag {
		t.offset = now - pts
	}
	out := pts + t.offset
	if t.started && out <= t.last {
		out = t.last + time.Millisecond
	}
	t.started, t.last = true, out
	return out
}
