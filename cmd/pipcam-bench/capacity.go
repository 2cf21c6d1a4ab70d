package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pipcam/pipcam/internal/viewer"
)

// capacityLevels are the viewer counts the capacity section tries.
var capacityLevels = []int{100, 200, 400}

// fullRate is the share of the output frame rate viewer 1 must get for a
// level to count as served.
const fullRate = 0.97

// capacityStatus is what runCapacity reads from /api/status.
type capacityStatus struct {
	Viewers int `json:"viewers"`
	Stream  struct {
		FPS       float64 `json:"fps"`
		Drops     uint64  `json:"viewer_drops"`
		TargetFPS *int    `json:"target_fps"`
		Why       string  `json:"adaptation"`
	} `json:"stream"`
}

// runCapacity finds the most WebRTC viewers this machine serves at full
// frame rate with nothing dropped: at each level the crowd grows, settles,
// and over one window viewer 1's frame rate, the AUs the server skipped
// for slow viewers and the AUs the viewers lost are counted. The viewers
// are pion peers in this process, so the machine serves both ends: with
// adaptation on, their own delay under load makes the daemon lower its
// rate (run again with -yaml 'encoder: {adaptive: {enabled: false}}').
func runCapacity(bin string, window time.Duration, sb *scoreboard) error {
	top := capacityLevels[len(capacityLevels)-1]
	d, err := startDaemon(bin, daemonOpts{yaml: fmt.Sprintf("webrtc:\n  ice_port: 0\n  max_viewers: %d\n", top), quiet: true})
	if err != nil {
		return err
	}
	defer d.stop()
	ctx := context.Background()
	var crowd []*viewer.Viewer
	defer func() { closeAll(crowd) }()
	served := 0
	for _, n := range capacityLevels {
		more, err := dialCrowd(ctx, d.base(), n-len(crowd), viewer.Options{})
		crowd = append(crowd, more...)
		if err != nil {
			sb.add("capacity", fmt.Sprintf("%d WebRTC viewers", n), "", "could not connect them all: %v", err)
			break
		}
		time.Sleep(3 * time.Second) // joins settle before the window
		before, err := readStatus[capacityStatus](d.base())
		if err != nil {
			return err
		}
		gaps0, self0, t0 := crowdGaps(crowd), cpuTicks(os.Getpid()), time.Now()
		s := measure(d.pid(), window, crowd[0])
		viewersCPU := float64(cpuTicks(os.Getpid())-self0) / clockTicks / time.Since(t0).Seconds() * 100
		after, err := readStatus[capacityStatus](d.base())
		if err != nil {
			return err
		}
		drops, lost := after.Stream.Drops-before.Stream.Drops, crowdGaps(crowd)-gaps0
		target := ""
		if after.Stream.TargetFPS != nil {
			target = fmt.Sprintf(", adaptation's target %d fps: %s", *after.Stream.TargetFPS, after.Stream.Why)
		}
		sb.add("capacity", fmt.Sprintf("%d WebRTC viewers", n), "",
			"viewer 1 at %.1f fps (encoder %.1f%s), %d AUs skipped for slow viewers, %d AUs lost at the viewers; CPU %.1f %% of one core, RSS %.1f MB; the viewers (this process) %.0f %% of one core",
			s.fps, after.Stream.FPS, target, drops, lost, s.cpu, s.rssMB, viewersCPU)
		if s.fps < fullRate*15 || drops > 0 || lost > 0 {
			break
		}
		served = n
	}
	tried := make([]string, len(capacityLevels))
	for i, n := range capacityLevels {
		tried[i] = strconv.Itoa(n)
	}
	sb.add("capacity", "most viewers at full frame rate, nothing dropped", "", "%d (tried %s)", served, strings.Join(tried, ", "))
	return nil
}

// crowdGaps is the AUs the viewers lost so far, all together.
func crowdGaps(vs []*viewer.Viewer) uint64 {
	var n uint64
	for _, v := range vs {
		n += v.Stats().Gaps
	}
	return n
}
