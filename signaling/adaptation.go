package signaling

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/pipcam/pipcam/configs"
)

// adaptEvery is how often the target is reviewed while anybody watches.
const adaptEvery = 500 * time.Millisecond

// Adaptation connects bandwidth adaptation to the encoder. With Bitrate
// nil, or Config.Enabled false, the encoder keeps its configured bitrate.
type Adaptation struct {
	Bitrate   BitrateControl
	Framerate FramerateControl // nil: the frame rate is never lowered
	// Pinned reports clients without congestion feedback that need the
	// configured bitrate (FLV over TCP); nil: none.
	Pinned func() bool
	Kbps   int // the configured bitrate: the ceiling, and what FLV gets
	FPS    int // the configured frame rate
	Config configs.Adaptive
}

func (a Adaptation) enabled() bool { return a.Bitrate != nil && a.Config.Enabled && a.Kbps > 0 }

// ccSettings bounds each viewer's estimator: it starts where its estimate
// less headroom is the ceiling (a new viewer does not lower the target
// until its feedback says so), goes down far enough to tell a hopeless
// link from a weak one, and up to twice the ceiling so that a healthy
// viewer's estimate less headroom still reaches it.
func (a Adaptation) ccSettings() *ccSettings {
	if !a.enabled() {
		return nil
	}
	return &ccSettings{initial: int(float64(a.Kbps*1000)/headroom) + 1000, min: 30_000, max: 2 * a.Kbps * 1000}
}

// adaptation is the Server's loop that reviews the target. The fan-out
// kicks it every adaptEvery while anybody watches (and once when the last
// viewer leaves), so an idle daemon has no timer for it.
type adaptation struct {
	opts Adaptation
	log  *slog.Logger
	ctl  *adapter
	kick chan struct{}

	// Owned by the fan-out goroutine (tick).
	lastKick   time.Time
	hadViewers bool

	mu      sync.Mutex
	last    decision
	applied int // kbit/s the encoder was last given
}

func newAdaptation(o Adaptation, log *slog.Logger) *adaptation {
	cfg := adaptConfig{
		maxKbps:      o.Kbps,
		floorKbps:    o.Config.FloorKbps(o.Kbps),
		outlierRatio: o.Config.OutlierRatio,
		lowKbps:      o.Config.LowerFramerateBelowKbps,
		fps:          o.FPS,
		minFPS:       o.Config.MinFramerate,
	}
	if o.Framerate == nil || o.FPS <= 0 {
		cfg.lowKbps = 0
	}
	a := &adaptation{opts: o, log: log, ctl: newAdapter(cfg), kick: make(chan struct{}, 1), applied: o.Kbps}
	a.last = decision{kbps: o.Kbps, fps: o.FPS, why: "no viewers"}
	return a
}

// tick is called by the fan-out for each access unit.
func (a *adaptation) tick(now time.Time, viewers int) {
	if viewers == 0 && !a.hadViewers {
		return
	}
	if viewers > 0 && now.Sub(a.lastKick) < adaptEvery {
		return
	}
	a.hadViewers = viewers > 0
	a.lastKick = now
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// run reviews the target whenever kicked, until ctx ends.
func (a *adaptation) run(ctx context.Context, s *Server) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.kick:
			a.review(time.Now(), s)
		}
	}
}

// review steps the policy with the forwarding viewers' estimates and
// applies the result: the encoder's bitrate and frame rate, and each
// viewer's keyframes-only gate.
func (a *adaptation) review(now time.Time, s *Server) {
	views := s.forwarding()
	ests := make([]viewerEstimate, len(views))
	for i, ss := range views {
		bps, _ := ss.bw.estimate(now)
		ests[i] = viewerEstimate{id: ss.id, kbps: bps / 1000}
	}
	pinned := a.opts.Pinned != nil && a.opts.Pinned()
	d := a.ctl.step(now, ests, pinned)
	if len(views) == 0 {
		d.why = "no viewers"
	}
	a.mu.Lock()
	prev := a.applied
	a.last = d
	a.mu.Unlock()
	if d.kbps != prev {
		if err := a.opts.Bitrate.SetBitrate(d.kbps); err != nil {
			a.log.Warn("set encoder bitrate", "kbps", d.kbps, "err", err)
		} else {
			a.mu.Lock()
			a.applied = d.kbps
			a.mu.Unlock()
			a.log.Info("encoder bitrate adapted", "from_kbps", prev, "to_kbps", d.kbps, "fps", d.fps, "why", d.why)
		}
	}
	if a.opts.Framerate != nil {
		if err := a.opts.Framerate.SetFramerate(d.fps); err != nil {
			a.log.Warn("set encoder frame rate", "fps", d.fps, "err", err)
		}
	}
	for _, ss := range views {
		vd := d.viewers[ss.id]
		if !ss.subscriber().gate.set(vd.keyOnly, vd.budgetKbps) {
			continue
		}
		if vd.keyOnly {
			ss.log.Info("viewer gets keyframes only", "why", vd.why, "budget_kbps", vd.budgetKbps)
		} else {
			ss.log.Info("viewer gets every frame again")
			s.opts.Source.RequestKeyframe() // it waits for one
		}
	}
}

// state is the last decision, for status.
func (a *adaptation) state() (d decision) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last
}
