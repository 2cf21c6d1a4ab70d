package signaling

import (
	"slices"
	"strconv"
	"time"
)

// The adaptation policy's fixed parts. The bits a viewer's estimate
// allows are spent on headers too (RTP, SRTP, UDP/IP: about 5 % at 1200-byte
// packets) and on retransmissions, so the encoder gets headroom of them.
const (
	headroom     = 0.9
	downDeadband = 0.05 // a lower target is taken at once when at least this much lower
	upDeadband   = 0.10 // a higher one only when this much higher ...
	upHold       = 2 * time.Second
	// ... for this long, and then only as high as it stayed all that time.
	// Once a climb has begun (the last move was up), each further step
	// needs only climbHold: a link that has cleared is followed as fast
	// as the estimate grows (GCC's +8 %/s), not 2 s behind it, while a
	// sawtooth tooth after a drop still waits the full upHold.
	climbHold = 500 * time.Millisecond

	// A viewer that cannot take the target (its estimate less headroom is
	// below keyOnlyMargin of it) for keyOnlyEnter gets keyframes only, and
	// so does an outlier, at once. An outlier stops being one only when
	// clearly no longer far below (outlierLeave times the ratio), as a
	// probe (below).
	keyOnlyMargin = 0.8
	keyOnlyEnter  = time.Second
	outlierLeave  = 1.5
	// Leaving keyframes-only is a probe (a viewer that gets little sends
	// feedback that says little): it waits probeMin, doubling up to
	// probeMax when the last probe failed within probeMemory.
	probeMin    = 5 * time.Second
	probeMax    = 60 * time.Second
	probeMemory = 30 * time.Second

	// fpsHold spaces frame-rate changes: each one renegotiates the encoder,
	// which starts again with a keyframe, a burst a weak link pays for.
	fpsHold = 5 * time.Second
)

// adaptConfig is the policy's configured part; rates in kbit/s.
type adaptConfig struct {
	maxKbps      int     // the configured bitrate: ceiling, and what FLV gets
	floorKbps    int     // never ask the encoder for less
	outlierRatio float64 // below this fraction of the others' median: outlier (0: off)
	lowKbps      int     // below this target the frame rate steps down (0: never)
	fps, minFPS  int     // the configured frame rate and the lowest step
}

// viewerEstimate is one viewer's estimate (0: none yet).
type viewerEstimate struct {
	id   string
	kbps int
}

// verdict is what one viewer gets.
type verdict struct {
	keyOnly    bool
	why        string // why it gets keyframes only
	budgetKbps int    // its keyframes' budget
}

// decision is the result of one step.
type decision struct {
	kbps, fps int
	why       string
	viewers   map[string]verdict
}

// adapter turns viewers' estimates into the encoder's target, with
// hysteresis: down at once, up only after upHold (climbHold once a climb
// is under way) and only to the lowest level seen in it. It is pure logic, stepped by its owner with the time.
type adapter struct {
	cfg    adaptConfig
	target int
	fps    int
	fpsAt  time.Time // when fps last changed

	upSince  time.Time
	upMin    int
	climbing bool // the last move was up

	viewers map[string]*viewerState
}

// viewerState is one viewer's switches: far below the others (left out
// of the target), and unable to take the target. Either gives it
// keyframes only.
type viewerState struct{ outlier, cannot sticky }

func newAdapter(cfg adaptConfig) *adapter {
	cfg.floorKbps = min(cfg.floorKbps, cfg.maxKbps)
	cfg.minFPS = max(min(cfg.minFPS, cfg.fps), 1)
	return &adapter{cfg: cfg, target: cfg.maxKbps, fps: cfg.fps, viewers: map[string]*viewerState{}}
}

// step decides the target for the viewers now. pinned: viewers without
// feedback (FLV) need the configured bitrate.
func (a *adapter) step(now time.Time, views []viewerEstimate, pinned bool) decision {
	states := a.states(views)
	refs := a.references(views)
	weakest, weakestID := 0, ""
	for _, v := range views {
		st := states[v.id]
		if ref, ok := refs[v.id]; ok {
			far := float64(v.kbps) < a.cfg.outlierRatio*ref
			near := float64(v.kbps) >= outlierLeave*a.cfg.outlierRatio*ref
			st.outlier.update(now, far, near, 0) // at once: one viewer's dip must not reach the others
		} else {
			st.outlier.update(now, false, true, 0)
		}
		if v.kbps > 0 && !st.outlier.on && (weakest == 0 || v.kbps < weakest) {
			weakest, weakestID = v.kbps, v.id
		}
	}
	desired, why := a.cfg.maxKbps, "no viewer sends congestion feedback"
	switch {
	case pinned:
		why = "FLV clients connected: they get the configured bitrate"
	case weakest > 0:
		desired = min(max(int(float64(weakest)*headroom), a.cfg.floorKbps), a.cfg.maxKbps)
		why = "weakest viewer " + shortID(weakestID) + " estimates " + strconv.Itoa(weakest) + " kbit/s"
	}
	a.move(now, desired)
	if fps := a.framerate(a.target); fps != a.fps && (a.fpsAt.IsZero() || now.Sub(a.fpsAt) >= fpsHold) {
		a.fps, a.fpsAt = fps, now
	}

	d := decision{kbps: a.target, fps: a.fps, why: why, viewers: map[string]verdict{}}
	for _, v := range views {
		st := states[v.id]
		if st.outlier.on {
			st.cannot = sticky{} // judged afresh once it is back in the target
		} else {
			cannot := v.kbps > 0 && float64(v.kbps)*headroom < keyOnlyMargin*float64(a.target)
			st.cannot.update(now, cannot, !cannot, keyOnlyEnter)
		}
		if !st.outlier.on && !st.cannot.on {
			continue
		}
		vd := verdict{keyOnly: true, budgetKbps: int(float64(v.kbps) * headroom), why: "its link is below the floor"}
		switch {
		case st.outlier.on:
			vd.why = "its link is far below the other viewers'"
		case pinned:
			vd.why = "FLV clients hold the bitrate above its link"
		}
		d.viewers[v.id] = vd
	}
	return d
}

// states are the viewers' switches, made for new viewers and dropped for
// those that left.
func (a *adapter) states(views []viewerEstimate) map[string]*viewerState {
	seen := map[string]bool{}
	for _, v := range views {
		seen[v.id] = true
		if a.viewers[v.id] == nil {
			a.viewers[v.id] = &viewerState{}
		}
	}
	for id := range a.viewers {
		if !seen[id] {
			delete(a.viewers, id)
		}
	}
	return a.viewers
}

// references are what each viewer with an estimate is measured against
// to tell whether it is far below the others: the median of everybody
// else's estimate, each taken as at most the ceiling (a healthy viewer's
// estimate grows while the stream is below what its link takes, up to
// twice the ceiling: without the cap a weak, not hopeless, viewer would
// look far below it). None without the ratio or another viewer.
func (a *adapter) references(views []viewerEstimate) map[string]float64 {
	refs := map[string]float64{}
	if a.cfg.outlierRatio <= 0 {
		return refs
	}
	var known []viewerEstimate
	for _, v := range views {
		if v.kbps > 0 {
			known = append(known, v)
		}
	}
	if len(known) < 2 {
		return refs
	}
	others := make([]int, 0, len(known)-1)
	for i, v := range known {
		others = others[:0]
		for j, o := range known {
			if j != i {
				others = append(others, min(o.kbps, a.cfg.maxKbps))
			}
		}
		refs[v.id] = medianInt(others)
	}
	return refs
}

func medianInt(xs []int) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return float64(s[n/2])
	}
	return float64(s[n/2-1]+s[n/2]) / 2
}

// move applies the hysteresis.
func (a *adapter) move(now time.Time, desired int) {
	t := float64(a.target)
	switch {
	case desired < a.target && (float64(desired) < t*(1-downDeadband) || desired == a.cfg.floorKbps):
		a.target = desired
		a.upSince, a.climbing = time.Time{}, false
	case desired > a.target && (float64(desired) > t*(1+upDeadband) || desired == a.cfg.maxKbps):
		if a.upSince.IsZero() {
			a.upSince, a.upMin = now, desired
		}
		a.upMin = min(a.upMin, desired)
		hold := upHold
		if a.climbing {
			hold = climbHold
		}
		if now.Sub(a.upSince) >= hold {
			a.target = a.upMin
			a.upSince, a.climbing = time.Time{}, true
		}
	default:
		a.upSince = time.Time{}
	}
}

// framerate is the frame rate for a target: the configured rate down to
// lowKbps; below it the highest step (the rate, 2/3, 1/2, 1/3 of it, no
// lower than minFPS) that keeps each frame about the bits it has at
// lowKbps. Going back up a step needs 10 % more than that. (step spaces
// the changes by fpsHold.)
func (a *adapter) framerate(kbps int) int {
	c := a.cfg
	if c.lowKbps <= 0 || kbps >= c.lowKbps {
		return c.fps
	}
	want := float64(c.fps) * float64(kbps) / float64(c.lowKbps)
	steps := []int{c.fps}
	for _, s := range []int{c.fps * 2 / 3, c.fps / 2, c.fps / 3, c.minFPS} {
		if s >= c.minFPS && s < steps[len(steps)-1] {
			steps = append(steps, s)
		}
	}
	pick := steps[len(steps)-1]
	for _, s := range steps {
		if float64(s) <= want {
			pick = s
			break
		}
	}
	if pick > a.fps && float64(pick)*1.1 > want {
		return a.fps // not clearly enough for the step up yet
	}
	return pick
}

// sticky is a switch with hysteresis: on once the condition for it held
// for enterAfter, off once the condition for leaving held for a hold
// that starts at probeMin and doubles, up to probeMax, when the switch
// comes back on within probeMemory of going off (the last probe failed).
type sticky struct {
	on     bool
	since  time.Time // when the condition for switching began
	hold   time.Duration
	leftAt time.Time
}

func (s *sticky) update(now time.Time, enter, leave bool, enterAfter time.Duration) {
	if s.on && !leave || !s.on && !enter {
		s.since = time.Time{}
		return
	}
	if s.since.IsZero() {
		s.since = now
	}
	wait := enterAfter
	if s.on {
		wait = s.hold
	}
	if now.Sub(s.since) < wait {
		return
	}
	s.since = time.Time{}
	if s.on {
		s.on, s.leftAt = false, now
		return
	}
	s.on = true
	if !s.leftAt.IsZero() && now.Sub(s.leftAt) < probeMemory {
		s.hold = min(2*s.hold, probeMax)
	} else {
		s.hold = probeMin
	}
}
