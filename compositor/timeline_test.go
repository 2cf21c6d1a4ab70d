package compositor

import (
	"testing"
	"time"
)

func TestTimeline(t *testing.T) {
	const frame = time.Second / 15
	ms := time.Millisecond
	type step struct {
		pts  time.Duration
		key  bool
		now  time.Duration
		want time.Duration
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"starts at the clock, then keeps the encoder's spacing despite arrival jitter", []step{
			{10 * time.Second, true, 2 * time.Second, 2 * time.Second},
			{10*time.Second + frame, false, 2*time.Second + 90*ms, 2*time.Second + frame},
			{10*time.Second + 2*frame, false, 2*time.Second + 120*ms, 2*time.Second + 2*frame},
		}},
		{"a rebuild's lost seconds are caught up at the next keyframe", []step{
			{0, true, time.Second, time.Second},
			{frame, false, time.Second + frame, time.Second + frame},
			// the graph was rebuilt: PTS goes on by one frame, 3 s later
			{2 * frame, false, 4 * time.Second, time.Second + 2*frame},
			{3 * frame, true, 4*time.Second + frame, 4*time.Second + frame},
			{4 * frame, false, 4*time.Second + 2*frame, 4*time.Second + 2*frame},
		}},
		{"a small lag is not corrected", []step{
			{0, true, 0, 0},
			{frame, true, frame + 400*ms, frame},
		}},
		{"never backwards, never the same", []step{
			{time.Second, true, 0, 0},
			{time.Second, false, 0, ms},
			{time.Second - frame, false, 0, 2 * ms},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tl timeline
			for i, s := range tt.steps {
				if got := tl.stamp(s.pts, s.key, s.now); got != s.want {
					t.Fatalf("step %d: stamp(%s, key %v, now %s) = %s, want %s", i, s.pts, s.key, s.now, got, s.want)
				}
			}
		})
	}
}
