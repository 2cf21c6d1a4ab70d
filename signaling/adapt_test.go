package signaling

import (
	"math"
	"strings"
	"testing"
	"time"
)

var testPolicy = adaptConfig{maxKbps: 400, floorKbps: 100, outlierRatio: 0.25, lowKbps: 200, fps: 15, minFPS: 5}

// run steps a fresh adapter every 100 ms through a script of estimates
// (one []viewerEstimate per step) and returns every decision.
func runPolicy(cfg adaptConfig, pinned bool, script [][]viewerEstimate) []decision {
	a := newAdapter(cfg)
	t0 := time.Unix(1000, 0)
	out := make([]decision, len(script))
	for i, views := range script {
		out[i] = a.step(t0.Add(time.Duration(i)*100*time.Millisecond), views, pinned)
	}
	return out
}

// repeat is n steps of the same estimates.
func repeat(n int, views ...viewerEstimate) [][]viewerEstimate {
	s := make([][]viewerEstimate, n)
	for i := range s {
		s[i] = views
	}
	return s
}

func est(id string, kbps int) viewerEstimate { return viewerEstimate{id: id, kbps: kbps} }

func changes(ds []decision) int {
	n := 0
	for i := 1; i < len(ds); i++ {
		if ds[i].kbps != ds[i-1].kbps {
			n++
		}
	}
	return n
}

func TestAdapterFollowsTheWeakestDownAtOnceUpAfterAHold(t *testing.T) {
	script := append(repeat(5, est("a", 1000)), repeat(5, est("a", 1000), est("b", 250))...)
	script = append(script, repeat(30, est("a", 1000), est("b", 600))...)
	ds := runPolicy(testPolicy, false, script)
	if ds[4].kbps != 400 {
		t.Fatalf("one fast viewer: target %d, want the ceiling 400", ds[4].kbps)
	}
	if ds[5].kbps != 225 || !strings.Contains(ds[5].why, "250 kbit/s") {
		t.Fatalf("a 250 kbit/s viewer joins: target %d (%s), want 225 at once", ds[5].kbps, ds[5].why)
	}
	// Its link clears at step 10: the target holds for upHold (20 steps),
	// then climbs in one step.
	for i := 10; i < 29; i++ {
		if ds[i].kbps != 225 {
			t.Fatalf("step %d: target %d before the hold ended", i, ds[i].kbps)
		}
	}
	if last := ds[len(ds)-1]; last.kbps != 400 {
		t.Fatalf("after the hold: target %d, want 400", last.kbps)
	}
}

// A link that has cleared: GCC's estimate grows 8 % a second from 120
// kbit/s. The first step up waits the full hold; later ones follow the
// estimate at climbHold, so the target is never far behind it.
func TestAdapterFollowsAClimb(t *testing.T) {
	var script [][]viewerEstimate
	for i := 0; i < 300; i++ {
		kbps := int(120 * math.Pow(1.08, float64(i)/10))
		script = append(script, []viewerEstimate{est("a", kbps)})
	}
	ds := runPolicy(testPolicy, false, script)
	first := -1
	for i := 1; i < len(ds); i++ {
		if ds[i].kbps > ds[i-1].kbps {
			first = i
			break
		}
	}
	if first < int(upHold/(100*time.Millisecond)) {
		t.Fatalf("first step up at step %d, before the hold", first)
	}
	for i := first + 10; i < len(ds); i++ {
		est := script[i][0].kbps
		want := min(int(float64(est)*headroom), 400)
		if ds[i].kbps < want*8/10 {
			t.Fatalf("step %d: target %d while the estimate is %d (want at least %d): it lags the climb", i, ds[i].kbps, est, want*8/10)
		}
	}
	if ds[len(ds)-1].kbps != 400 {
		t.Fatalf("target %d at the end of the climb, want 400", ds[len(ds)-1].kbps)
	}
}

func TestAdapterClampsToFloorAndCeiling(t *testing.T) {
	ds := runPolicy(testPolicy, false, repeat(3, est("a", 40)))
	if ds[0].kbps != 100 {
		t.Fatalf("a 40 kbit/s viewer: target %d, want the floor 100", ds[0].kbps)
	}
	ds = runPolicy(testPolicy, false, repeat(3, est("a", 5000)))
	if ds[2].kbps != 400 {
		t.Fatalf("a 5 Mbit/s viewer: target %d, want the ceiling 400", ds[2].kbps)
	}
	ds = runPolicy(testPolicy, false, repeat(3, est("a", 0), est("b", 0)))
	if ds[2].kbps != 400 || !strings.Contains(ds[2].why, "no viewer sends") {
		t.Fatalf("viewers without feedback: %+v", ds[2])
	}
}

// GCC's estimate saws up and down around the link rate; the target must
// not follow every tooth.
func TestAdapterDoesNotOscillate(t *testing.T) {
	var script [][]viewerEstimate
	for i := 0; i < 600; i++ { // a minute
		kbps := 300 + []int{0, 12, 24, 12, 0, -12}[i%6] // ±4 % every 100 ms
		script = append(script, []viewerEstimate{est("a", kbps)})
	}
	ds := runPolicy(testPolicy, false, script)
	if n := changes(ds); n > 1 {
		t.Fatalf("target changed %d times in a minute of a ±4 %% estimate", n)
	}
	// A slow sawtooth (GCC's 8 %/s climb and 15 % drop) with a period of
	// 3 s: the target goes down with it but up only to what held for 2 s.
	script = script[:0]
	for i := 0; i < 600; i++ {
		phase := i % 30
		kbps := 255 + phase*2 // 255 -> 313, then back
		script = append(script, []viewerEstimate{est("a", kbps)})
	}
	ds = runPolicy(testPolicy, false, script)
	if n := changes(ds); n > 25 {
		t.Fatalf("target changed %d times in a minute of 3 s sawtooth", n)
	}
	for _, d := range ds[1:] {
		if d.kbps > 313*9/10 {
			t.Fatalf("target %d above what the link held", d.kbps)
		}
	}
}

func TestAdapterOutlierGetsKeyframesOnly(t *testing.T) {
	// Three healthy viewers and one far below them.
	views := []viewerEstimate{est("a", 800), est("b", 900), est("c", 700), est("slow", 60)}
	ds := runPolicy(testPolicy, false, repeat(20, views...))
	last := ds[len(ds)-1]
	if last.kbps != 400 {
		t.Fatalf("target %d: the outlier dragged everyone down", last.kbps)
	}
	// At once: one viewer's dip must not reach the others even briefly.
	if ds[0].kbps != 400 || !ds[0].viewers["slow"].keyOnly {
		t.Fatalf("first step: %+v", ds[0])
	}
	v := last.viewers["slow"]
	if !v.keyOnly || v.budgetKbps != 54 || !strings.Contains(v.why, "far below") {
		t.Fatalf("outlier's verdict %+v", v)
	}
	for _, id := range []string{"a", "b", "c"} {
		if last.viewers[id].keyOnly {
			t.Fatalf("healthy viewer %s got keyframes only", id)
		}
	}
	// Not an outlier: 180 beside a viewer at twice the ceiling is weak, not
	// far below (the others count as at most the ceiling).
	ds = runPolicy(testPolicy, false, repeat(20, est("a", 800), est("weak", 180)))
	if last := ds[len(ds)-1]; last.kbps != 162 || last.viewers["weak"].keyOnly {
		t.Fatalf("weak (not outlier) viewer: %+v", last)
	}
}

// Leaving keyframes-only is a probe; a probe that fails soon makes the
// next one wait twice as long.
func TestAdapterKeyframesOnlyProbesWithBackoff(t *testing.T) {
	a := newAdapter(testPolicy)
	t0 := time.Unix(1000, 0)
	at := func(d time.Duration, kbps int) bool {
		return a.step(t0.Add(d), []viewerEstimate{est("a", 1000), est("b", 1000), est("slow", kbps)}, false).viewers["slow"].keyOnly
	}
	var on []time.Duration // when keyframes-only switched on or off
	was := false
	for d := time.Duration(0); d < 40*time.Second; d += 100 * time.Millisecond {
		// The link takes 60 kbit/s, but looks fine whenever little is sent.
		kbps := 60
		if was {
			kbps = 900
		}
		if now := at(d, kbps); now != was {
			on = append(on, d)
			was = now
		}
	}
	if len(on) < 5 {
		t.Fatalf("switches at %v", on)
	}
	if got := on[0]; got != 0 {
		t.Errorf("an outlier got keyframes only after %v, want at once", got)
	}
	// The link looks fine from the step after it went keyframes-only.
	step := 100 * time.Millisecond
	first, second := on[1]-on[0]-step, on[3]-on[2]-step
	if first != probeMin || second != 2*probeMin {
		t.Errorf("probes after %v and %v, want %v then %v (switches %v)", first, second, probeMin, 2*probeMin, on)
	}
}

// A viewer on keyframes only sends little, so its estimate drifts up; it
// stays an outlier (and does not drag the target down) until it is
// clearly above the line, not at it.
func TestAdapterOutlierIsSticky(t *testing.T) {
	script := repeat(10, est("a", 800), est("slow", 60))
	script = append(script, repeat(100, est("a", 800), est("slow", 110))...) // the line is 100
	ds := runPolicy(testPolicy, false, script)
	for i, d := range ds {
		if d.kbps != 400 || !d.viewers["slow"].keyOnly {
			t.Fatalf("step %d: %+v", i, d)
		}
	}
	// Clearly above (150+) for probeMin: a probe, every frame again, and the
	// viewer is the weakest.
	script = append(script, repeat(80, est("a", 800), est("slow", 160))...)
	ds = runPolicy(testPolicy, false, script)
	if last := ds[len(ds)-1]; last.viewers["slow"].keyOnly || last.kbps != 144 {
		t.Fatalf("after the probe: %+v", last)
	}
}

func TestAdapterPinnedByFLV(t *testing.T) {
	ds := runPolicy(testPolicy, true, repeat(20, est("a", 250)))
	last := ds[len(ds)-1]
	if last.kbps != 400 || !strings.Contains(last.why, "FLV") {
		t.Fatalf("pinned: %+v", last)
	}
	if v := last.viewers["a"]; !v.keyOnly || !strings.Contains(v.why, "FLV") {
		t.Fatalf("a 250 kbit/s viewer under a pinned 400: %+v", v)
	}
	if v := runPolicy(testPolicy, true, repeat(20, est("a", 420)))[19].viewers["a"]; v.keyOnly {
		t.Fatalf("a viewer that takes the pinned rate got keyframes only: %+v", v)
	}
}

func TestAdapterLowersTheFrameRateWhenVeryLow(t *testing.T) {
	tests := []struct {
		kbps, fps int
	}{
		{400, 15}, {250, 15}, {200, 15}, {190, 10}, {150, 10}, {120, 7}, {100, 7},
	}
	for _, tt := range tests {
		ds := runPolicy(testPolicy, false, repeat(2, est("a", tt.kbps*10/9+1)))
		if got := ds[1]; got.fps != tt.fps {
			t.Errorf("target %d kbit/s: %d fps, want %d", got.kbps, got.fps, tt.fps)
		}
	}
	// Back up a step only with 10 % to spare: 135 kbit/s would allow
	// 10.1 fps, 160 allows 12; and not within fpsHold of the last change.
	up := append(repeat(60, est("a", 134)), repeat(60, est("a", 150))...)
	up = append(up, repeat(60, est("a", 178))...)
	ds := runPolicy(testPolicy, false, up)
	if ds[59].fps != 7 || ds[119].kbps != 135 || ds[119].fps != 7 || ds[179].kbps != 160 || ds[179].fps != 10 {
		t.Errorf("stepping up: %d kbit/s %d fps, %d kbit/s %d fps, %d kbit/s %d fps",
			ds[59].kbps, ds[59].fps, ds[119].kbps, ds[119].fps, ds[179].kbps, ds[179].fps)
	}
	// A target that swings across a step every second changes the frame
	// rate at most once per fpsHold.
	var swing [][]viewerEstimate
	for i := 0; i < 300; i++ { // 30 s
		kbps := 230
		if i/10%2 == 1 {
			kbps = 150
		}
		swing = append(swing, []viewerEstimate{est("a", kbps)})
	}
	ds = runPolicy(testPolicy, false, swing)
	fpsChanges := 0
	for i := 1; i < len(ds); i++ {
		if ds[i].fps != ds[i-1].fps {
			fpsChanges++
		}
	}
	if fpsChanges > int(30*time.Second/fpsHold) {
		t.Errorf("frame rate changed %d times in 30 s", fpsChanges)
	}
	// Below the steps, the minimum.
	low := testPolicy
	low.floorKbps = 50
	if d := runPolicy(low, false, repeat(2, est("a", 60)))[1]; d.fps != 5 {
		t.Errorf("target %d kbit/s: %d fps, want 5", d.kbps, d.fps)
	}
	// Off, and with the minimum above the steps.
	off := testPolicy
	off.lowKbps = 0
	if d := runPolicy(off, false, repeat(2, est("a", 50)))[1]; d.fps != 15 {
		t.Errorf("lowering off: %d fps", d.fps)
	}
	high := testPolicy
	high.minFPS = 12
	if d := runPolicy(high, false, repeat(2, est("a", 50)))[1]; d.fps != 12 {
		t.Errorf("min 12: %d fps", d.fps)
	}
}

func TestKeyGateBudget(t *testing.T) {
	var g keyGate
	t0 := time.Unix(1000, 0)
	if !g.admit(t0, false, 1000) {
		t.Fatal("an open gate refused a frame")
	}
	g.set(true, 40) // 5 kB/s
	admitted := 0
	for i := 0; i < 150; i++ { // 10 s at 15 fps, a 20 kB keyframe every 2 s
		key := i%30 == 0
		ok := g.admit(t0.Add(time.Duration(i)*time.Second/15), key, map[bool]int{true: 20000, false: 1000}[key])
		if ok && !key {
			t.Fatal("keyframes-only let a delta frame through")
		}
		if ok {
			admitted++
		}
	}
	// 10 s of 5 kB/s take 2.5 keyframes of 20 kB: every other one.
	if admitted < 2 || admitted > 3 {
		t.Fatalf("%d keyframes of 20 kB through a 5 kB/s budget in 10 s", admitted)
	}
	if !g.set(false, 0) || !g.admit(t0, false, 1000) {
		t.Fatal("gate did not open")
	}
}
