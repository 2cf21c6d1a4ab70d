package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"sync/atomic"
	"time"

	"github.com/pipcam/pipcam/internal/viewer"
)

// loadPlan is what the load section measures: WebRTC viewer counts (the
// first is the baseline the crowd's cost is taken against), then the
// largest count plus flv FLV clients; with silent, the largest count again
// with viewers that send no RTCP (viewer.Options.Silent), so the cost of
// sending splits from that of hearing the viewers.
type loadPlan struct {
	levels []int
	flv    int
	silent bool
	rounds int
	window time.Duration
}

// runLoad measures the daemon's CPU and RSS at each level. CPU moves by a
// couple of points from window to window (the test pattern, x264, the
// client peers sharing these cores), so the levels are measured in
// alternating rounds (1, 20, 50, 50 + FLV, 50 with 49 silent, then 1
// again ...) and each reported as the mean with its range.
func runLoad(bin string, p loadPlan, sb *scoreboard) error {
	d, err := startDaemon(bin, daemonOpts{})
	if err != nil {
		return err
	}
	defer d.stop()
	ctx := context.Background()
	fmt.Fprintf(progress, "load: daemon pid %d, %d cores\n", d.pid(), numCPU())
	time.Sleep(3 * time.Second) // warm-up: encoder and clocks settle
	idle := measure(d.pid(), p.window, nil)
	sb.add("load", "idle (no viewer)", "", "CPU %.1f %% of one core, RSS %.1f MB", idle.cpu, idle.rssMB)

	first, err := viewer.DialWHEP(ctx, d.base(), viewer.Options{Logger: quiet()})
	if err != nil {
		return fmt.Errorf("first viewer: %w", err)
	}
	defer first.Close()
	if err := waitDecodable(ctx, first); err != nil {
		return err
	}
	levels := make([]*level, 0, len(p.levels)+1)
	for _, n := range p.levels {
		levels = append(levels, &level{name: fmt.Sprintf("%d WebRTC viewers", n)})
	}
	top := p.levels[len(p.levels)-1]
	flvLevel := &level{name: fmt.Sprintf("%d WebRTC + %d FLV viewers", top, p.flv)}
	silentLevel := &level{name: fmt.Sprintf("%d WebRTC viewers, %d of them silent", top, top-p.levels[0])}
	for round := 1; round <= p.rounds; round++ {
		var crowd []*viewer.Viewer
		for i, n := range p.levels {
			more, err := dialCrowd(ctx, d.base(), n-1-len(crowd), viewer.Options{})
			crowd = append(crowd, more...)
			if err != nil {
				closeAll(crowd)
				return err
			}
			time.Sleep(2 * time.Second) // joins settle before the window
			levels[i].record(round, measure(d.pid(), p.window, first))
		}
		if p.flv > 0 {
			clients, got, err := dialFLV(d.flvAddr, p.flv)
			if err != nil {
				closeAll(crowd)
				return err
			}
			time.Sleep(2 * time.Second)
			before := got.Load()
			flvLevel.record(round, measure(d.pid(), p.window, first))
			if round == 1 {
				flvLevel.flvReceive = (got.Load() - before) / int64(p.flv)
			}
			for _, c := range clients {
				c.Close()
			}
		}
		closeAll(crowd)
		time.Sleep(2 * time.Second) // the crowd's sessions end
		if p.silent {
			// The baseline's viewers, then the rest silent.
			mixed, err := dialCrowd(ctx, d.base(), p.levels[0]-1, viewer.Options{})
			if err == nil {
				var mute []*viewer.Viewer
				mute, err = dialCrowd(ctx, d.base(), top-p.levels[0], viewer.Options{Silent: true})
				mixed = append(mixed, mute...)
			}
			if err != nil {
				closeAll(mixed)
				return err
			}
			time.Sleep(2 * time.Second)
			silentLevel.record(round, measure(d.pid(), p.window, first))
			closeAll(mixed)
			time.Sleep(2 * time.Second)
		}
	}
	for _, lv := range append(levels, flvLevel, silentLevel) {
		if len(lv.cpu) == 0 {
			continue
		}
		mean, lo, hi := stats(lv.cpu)
		extra := ""
		if lv == flvLevel {
			extra = fmt.Sprintf("; each FLV client got %.0f kbit/s", float64(lv.flvReceive)*8/1000/p.window.Seconds())
		}
		sb.add("load", lv.name, "", "CPU %.1f %% of one core (%.1f-%.1f), RSS %.1f MB; viewer 1 at %.0f kbit/s, %.1f fps%s",
			mean, lo, hi, lv.rss, lv.kbps, lv.fps, extra)
	}
	if len(levels) > 1 {
		base, crowd := levels[0], levels[len(levels)-1]
		mean, lo, hi, goMean, goLo, goHi := addedCPU(base, crowd)
		n := top - p.levels[0]
		// The Go threads' figure is the viewers' cost without the swing of
		// the picture's own threads; the total is what the target is about.
		sb.add("load", fmt.Sprintf("%d more WebRTC viewers add", n), "",
			"%.1f points of one core (%.1f to %.1f, %d rounds; Go threads %.1f, %.1f to %.1f), %.2f MB RSS each",
			mean, lo, hi, len(crowd.cpu), goMean, goLo, goHi, (crowd.rss-base.rss)/float64(n))
		if len(silentLevel.cpu) > 0 {
			mean, lo, hi, goMean, goLo, goHi := addedCPU(base, silentLevel)
			sb.add("load", fmt.Sprintf("%d more silent viewers add (sending alone)", n), "",
				"%.1f points of one core (%.1f to %.1f; Go threads %.1f, %.1f to %.1f)", mean, lo, hi, goMean, goLo, goHi)
		}
	}
	return nil
}

// level is one viewer count's figures over the rounds.
type level struct {
	name       string
	cpu        []float64
	goCPU      []float64 // the Go threads' share (goThreadTicks)
	rss        float64
	kbps, fps  float64
	flvReceive int64
}

// record adds one round's window; size and rate come from the first round
// (later rounds start from a heap the crowd already grew).
func (lv *level) record(round int, s sample) {
	lv.cpu = append(lv.cpu, s.cpu)
	lv.goCPU = append(lv.goCPU, s.goCPU)
	if round == 1 {
		lv.rss, lv.kbps, lv.fps = s.rssMB, s.kbps, s.fps
	}
	fmt.Fprintf(progress, "load round %d: %s: CPU %.1f %% (Go threads %.1f), RSS %.1f MB\n", round, lv.name, s.cpu, s.goCPU, s.rssMB)
}

// addedCPU is what lv costs over base, round by round: the total's mean
// and range, then the Go threads'.
func addedCPU(base, lv *level) (mean, lo, hi, goMean, goLo, goHi float64) {
	var deltas, goDeltas []float64
	for i := range lv.cpu {
		deltas = append(deltas, lv.cpu[i]-base.cpu[i])
		goDeltas = append(goDeltas, lv.goCPU[i]-base.goCPU[i])
	}
	mean, lo, hi = stats(deltas)
	goMean, goLo, goHi = stats(goDeltas)
	return mean, lo, hi, goMean, goLo, goHi
}

// dialCrowd connects n viewers and waits until each has a picture; on
// failure it closes the ones it made.
func dialCrowd(ctx context.Context, baseURL string, n int, o viewer.Options) (vs []*viewer.Viewer, err error) {
	defer func() {
		if err != nil {
			closeAll(vs)
			vs = nil
		}
	}()
	o.Logger, o.AUBuffer = quiet(), 1
	for i := 0; i < n; i++ {
		v, err := viewer.DialWHEP(ctx, baseURL, o)
		if err != nil {
			return vs, fmt.Errorf("viewer %d: %w", i+2, err)
		}
		vs = append(vs, v)
	}
	for _, v := range vs {
		if err := waitDecodable(ctx, v); err != nil {
			return vs, err
		}
	}
	return vs, nil
}

func closeAll(vs []*viewer.Viewer) {
	for _, v := range vs {
		v.Close()
	}
}

// dialFLV connects n FLV clients that read and discard the stream, as VLC
// would play it; got counts the bytes they read.
func dialFLV(addr string, n int) ([]net.Conn, *atomic.Int64, error) {
	got := &atomic.Int64{}
	var cs []net.Conn
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			for _, c := range cs {
				c.Close()
			}
			return nil, nil, fmt.Errorf("FLV client %d: %w", i+1, err)
		}
		cs = append(cs, c)
		go func() { // ends when the connection is closed
			_, _ = io.Copy(counter{got}, c)
		}()
	}
	return cs, got, nil
}

// counter is a writer that only counts.
type counter struct{ n *atomic.Int64 }

func (c counter) Write(p []byte) (int, error) {
	c.n.Add(int64(len(p)))
	return len(p), nil
}

func stats(xs []float64) (mean, lo, hi float64) {
	lo, hi = slices.Min(xs), slices.Max(xs)
	for _, x := range xs {
		mean += x
	}
	return mean / float64(len(xs)), lo, hi
}

// sample is one measurement window.
type sample struct {
	cpu, goCPU, rssMB, kbps, fps float64
}

// measure watches the daemon's CPU time for a window and, with a viewer,
// what that viewer received in it.
func measure(pid int, window time.Duration, v *viewer.Viewer) sample {
	t0, c0, g0 := time.Now(), cpuTicks(pid), goThreadTicks(pid)
	var s0 viewer.Stats
	if v != nil {
		s0 = v.Stats()
	}
	time.Sleep(window) // the measurement window
	wall := time.Since(t0).Seconds()
	s := sample{
		cpu:   float64(cpuTicks(pid)-c0) / clockTicks / wall * 100,
		goCPU: float64(goThreadTicks(pid)-g0) / clockTicks / wall * 100,
		rssMB: rssMB(pid),
	}
	if v != nil {
		s1 := v.Stats()
		s.kbps = float64(s1.Bytes-s0.Bytes) * 8 / 1000 / wall
		s.fps = float64(s1.AUs-s0.AUs) / wall
	}
	return s
}
