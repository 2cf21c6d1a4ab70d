package main

import (
	"sync"
	"time"

	"github.com/pipcam/pipcam/internal/viewer"
)

// gapMeter keeps the longest time between two frames arriving at a
// viewer, and when it ended. Feed it every access unit (a viewer's OnAU
// hook, or a loop reading AUs).
type gapMeter struct {
	mu    sync.Mutex
	last  time.Time
	gap   time.Duration
	gapAt time.Time
}

func (g *gapMeter) observe(au viewer.AU) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.last.IsZero() && au.Arrival.Sub(g.last) > g.gap {
		g.gap, g.gapAt = au.Arrival.Sub(g.last), au.Arrival
	}
	g.last = au.Arrival
}

// reset starts a new measurement.
func (g *gapMeter) reset() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gap, g.gapAt = 0, time.Time{}
}

// worst is the longest gap since reset and when it ended, counting the
// time since the last frame (a stream that stopped is a gap too).
func (g *gapMeter) worst() (time.Duration, time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if now := time.Now(); !g.last.IsZero() && now.Sub(g.last) > g.gap {
		return now.Sub(g.last), now
	}
	return g.gap, g.gapAt
}
