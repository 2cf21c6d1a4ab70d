package signaling

import (
	"sync"
	"time"
)

// keyGate decides, per access unit, whether a viewer in keyframes-only
// mode gets it: only keyframes, and only as many as its budget allows (a
// token bucket filled at the budget, which may run into debt by one
// keyframe so that a keyframe larger than a second's budget still goes).
// Open, it lets everything through.
type keyGate struct {
	mu     sync.Mutex
	on     bool
	bps    float64
	tokens float64 // bytes
	last   time.Time
}

// set switches keyframes-only on (with a budget in kbit/s) or off; it
// reports whether that changed anything.
func (g *keyGate) set(on bool, budgetKbps int) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	changed := g.on != on
	g.on = on
	g.bps = float64(budgetKbps) * 1000
	if changed {
		g.tokens, g.last = 0, time.Time{}
	}
	return changed
}

// pace is how long size bytes take at the budget when keyframes only
// (0 otherwise): such a viewer's link is far too slow for a keyframe in
// one burst, which a bottleneck's queue would mostly drop.
func (g *keyGate) pace(size int) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.on || g.bps <= 0 {
		return 0
	}
	return time.Duration(float64(size) * 8 / g.bps * float64(time.Second))
}

// keyOnly reports whether the viewer gets keyframes only.
func (g *keyGate) keyOnly() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.on
}

// admit reports whether an access unit of size bytes goes to the viewer.
func (g *keyGate) admit(now time.Time, keyframe bool, size int) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.on {
		return true
	}
	if !keyframe {
		return false
	}
	if !g.last.IsZero() {
		// At most a second's budget saved up.
		g.tokens = min(g.tokens+now.Sub(g.last).Seconds()*g.bps/8, g.bps/8)
	}
	g.last = now
	if g.tokens < 0 {
		return false
	}
	g.tokens -= float64(size)
	return true
}
