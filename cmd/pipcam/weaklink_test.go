package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pipcam/pipcam/configs"
	"github.com/pipcam/pipcam/internal/netem"
	"github.com/pipcam/pipcam/internal/viewer"
)

func TestMain(m *testing.M) {
	netem.MaybeRunViewer() // the copy of this binary that watches from a namespace
	os.Exit(m.Run())
}

// The weak WiFi the issue describes, emulated: 300 kbit/s into the
// viewer's namespace (a 400 ms queue), 50 ms more on the way down, 1 %
// of UDP lost each way.
var weak = netem.WeakWiFi

// TestWeakLinkAdaptation: a viewer behind the weak link brings the
// encoder under the link rate within 10 s and then keeps getting pictures
// (no gap over 1 s once the joining transient is over; the target under
// the link nearly all the time); when the limit is lifted the bitrate is back at the
// configured 400 kbit/s within 20 s; a fast viewer on this side gets a
// continuous stream throughout.
func TestWeakLinkAdaptation(t *testing.T) {
	cfg := testConfig()
	// Noise with a moving inset: the encoder spends every bit it is given,
	// so the link really is too narrow for 400 kbit/s.
	cfg.Cameras[0].Pattern = configs.TestPattern("snow")
	lab := behindLink(t, "pipcam-weak", 77, weak, cfg)
	base, fast, slow, start := lab.base, lab.fast, lab.slow, lab.start

	// Phase 1: the target goes under the link rate.
	adapted := waitTarget(t, base, 10*time.Second, slow, func(kbps int) bool { return kbps < weak.Kbit })
	t.Logf("encoder target under %d kbit/s %.1f s after the weak viewer started", weak.Kbit, adapted.Sub(start).Seconds())

	// Phase 2: 20 s on the weak link; pictures keep coming once the
	// joining transient is over: 2 s after the target went under the link,
	// for what the link queued before (its 400 ms queue, full) to drain
	// and the pictures damaged then to be replaced by a keyframe. (Counted
	// from the very moment of adaptation, 1 run in 6 to 8 here had a gap
	// of 1.2 to 1.3 s in that transient.)
	settled := adapted.Add(2 * time.Second)
	limited := adapted.Add(20 * time.Second)
	var targets []int
	under := 0
	for time.Now().Before(limited) {
		kbps := status(t, base).Stream.TargetKbps
		targets = append(targets, kbps)
		if kbps < weak.Kbit {
			under++
		}
		time.Sleep(500 * time.Millisecond) // sampling the target
	}
	recs := slow.Records()
	var arrivals []time.Time
	var lat []time.Duration
	for _, r := range recs {
		if r.Arrival.After(settled) && !r.RefLost {
			arrivals = append(arrivals, r.Arrival)
			lat = append(lat, r.Latency)
		}
	}
	dumpRecords(t, recs)
	gap := maxGap(append([]time.Time{settled}, arrivals...), limited)
	fps := float64(len(arrivals)) / limited.Sub(settled).Seconds()
	t.Logf("behind the link for 20 s: target %d..%d kbit/s (under the link in %d of %d samples), %.1f intact pictures/s, longest gap %s, capture to viewer p50 %s p95 %s",
		slices.Min(targets), slices.Max(targets), under, len(targets), fps, gap.Round(time.Millisecond), pctDur(lat, 50), pctDur(lat, 95))
	if gap > time.Second {
		t.Errorf("the weak viewer went %s without an intact picture after adaptation", gap.Round(time.Millisecond))
	}
	// GCC finds the link by going over it now and then; the target stays
	// under it nearly all the time.
	if under < len(targets)*9/10 {
		t.Errorf("target under the link in only %d of %d samples: %v", under, len(targets), targets)
	}

	// Phase 3: the limit is lifted (delay and loss stay); the bitrate
	// climbs back to the configured one.
	if err := lab.link.SetRate(0, 0); err != nil {
		t.Fatal(err)
	}
	lifted := time.Now()
	back := waitTarget(t, base, 20*time.Second, slow, func(kbps int) bool { return kbps >= cfg.Encoder.BitrateKbps })
	t.Logf("target back at %d kbit/s %.1f s after the limit was lifted", cfg.Encoder.BitrateKbps, back.Sub(lifted).Seconds())

	// The fast viewer never waited.
	fa := fast.since(start)
	fgap := maxGap(fa, time.Now())
	t.Logf("fast viewer: %d pictures in %.0f s, longest gap %s", len(fa), time.Since(start).Seconds(), fgap.Round(time.Millisecond))
	if fgap > time.Second {
		t.Errorf("the fast viewer went %s without a picture", fgap.Round(time.Millisecond))
	}
}

// lab is a daemon with a fast viewer on this side and a slow one behind
// an emulated link in a namespace.
type lab struct {
	link  *netem.Link
	base  string
	fast  *arrivals     // the fast viewer's pictures
	slow  *netem.Remote // the viewer behind the link
	start time.Time     // when the slow viewer started
}

func behindLink(t *testing.T, name string, subnet int, p netem.Profile, cfg *configs.Config) lab {
	t.Helper()
	link := namespaceLink(t, name, subnet) // oneport_test.go
	if err := link.Apply(p); err != nil {
		t.Fatal(err)
	}
	cfg.HTTP.Listen = link.HostIP + ":0"
	d := startTestDaemon(t, cfg)
	l := lab{link: link, base: "http://" + d.HTTPAddr(), fast: newArrivals()}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	fv, err := viewer.DialWHEP(ctx, l.base, viewer.Options{Logger: quietLogger(), AUBuffer: 1, OnAU: l.fast.add})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fv.Close() })
	if err := fv.WaitFirstDecodable(ctx); err != nil {
		t.Fatal(err)
	}
	l.start = time.Now()
	if l.slow, err = link.StartViewer(l.base, p.Delay); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.slow.Close() })
	return l
}

// dumpRecords logs every picture the viewer behind the link got, with
// PIPCAM_TEST_LOG set.
func dumpRecords(t *testing.T, recs []netem.Record) {
	if os.Getenv("PIPCAM_TEST_LOG") == "" {
		return
	}
	for _, r := range recs {
		t.Logf("rec %s lat %v key %v reflost %v bytes %d", r.Arrival.Format("05.000"), r.Latency, r.Keyframe, r.RefLost, r.Bytes)
	}
}

// waitTarget polls the target until ok, failing after within; it returns
// when it was first seen ok.
func waitTarget(t *testing.T, base string, within time.Duration, slow *netem.Remote, ok func(int) bool) time.Time {
	t.Helper()
	deadline := time.Now().Add(within)
	var seen []int
	for {
		st := status(t, base)
		if ok(st.Stream.TargetKbps) {
			return time.Now()
		}
		seen = append(seen, st.Stream.TargetKbps)
		if os.Getenv("PIPCAM_TEST_LOG") != "" {
			t.Logf("target %d %q sessions %+v", st.Stream.TargetKbps, st.Stream.Adaptation, st.Sessions)
		}
		if exited, msg := slow.Exited(); exited {
			t.Fatalf("the weak viewer ended: %s", msg)
		}
		if time.Now().After(deadline) {
			t.Fatalf("target not there within %s (targets %v; now %q; sessions %+v); the viewer behind the link got %d pictures and said: %s",
				within, seen, st.Stream.Adaptation, st.Sessions, len(slow.Records()), slow.Stderr())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type statusReply struct {
	Stream struct {
		TargetKbps  int     `json:"target_kbps"`
		BitrateKbps float64 `json:"bitrate_kbps"`
		Adaptation  string  `json:"adaptation"`
	} `json:"stream"`
	Sessions []sessionReply `json:"sessions"`
}

type sessionReply struct {
	ID             string `json:"id"`
	EstimateKbps   int    `json:"estimate_kbps"`
	EstimateSource string `json:"estimate_source"`
	Receiving      string `json:"receiving"`
}

func status(t *testing.T, base string) statusReply {
	t.Helper()
	resp, err := http.Get(base + "/api/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st statusReply
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// arrivals records when a viewer's access units came.
type arrivals struct {
	mu sync.Mutex
	at []time.Time
}

func newArrivals() *arrivals { return &arrivals{} }

func (a *arrivals) add(au viewer.AU) {
	a.mu.Lock()
	a.at = append(a.at, au.Arrival)
	a.mu.Unlock()
}

func (a *arrivals) since(t0 time.Time) []time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []time.Time
	for _, t := range a.at {
		if t.After(t0) {
			out = append(out, t)
		}
	}
	return out
}

// maxGap is the longest time between consecutive arrivals, and from the
// last to end.
func maxGap(at []time.Time, end time.Time) time.Duration {
	var g time.Duration
	for i := 1; i < len(at); i++ {
		g = max(g, at[i].Sub(at[i-1]))
	}
	if len(at) > 0 {
		g = max(g, end.Sub(at[len(at)-1]))
	}
	return g
}

func pctDur(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)*p/100, len(s)-1)].Round(time.Millisecond)
}

// TestHopelessLinkGetsKeyframesOnly: a viewer behind 80 kbit/s, far below
// a fast one, does not drag the encoder down: it gets keyframes only, as
// many as its link takes, and status says why; the fast viewer keeps the
// configured bitrate and every frame.
func TestHopelessLinkGetsKeyframesOnly(t *testing.T) {
	hopeless := netem.Profile{Kbit: 80, Queue: time.Second, Delay: weak.Delay, LossPercent: weak.LossPercent}
	cfg := testConfig()
	lab := behindLink(t, "pipcam-hopeless", 79, hopeless, cfg)
	base, fast, slow, start := lab.base, lab.fast, lab.slow, lab.start

	const keyOnly = "keyframes only: its link is far below the other viewers'"
	var st statusReply
	var before []string // every session's estimate until then
	deadline := time.Now().Add(20 * time.Second)
	for {
		st = status(t, base)
		for _, s := range st.Sessions {
			before = append(before, fmt.Sprintf("%s:%d", s.ID, s.EstimateKbps))
		}
		before = append(before, fmt.Sprintf("target:%d|", st.Stream.TargetKbps))
		if slices.ContainsFunc(st.Sessions, func(s sessionReply) bool { return s.Receiving == keyOnly }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hopeless viewer is not on keyframes only after 20 s: %+v", st)
		}
		time.Sleep(200 * time.Millisecond) // polling status
	}
	since := time.Now()
	t.Logf("estimates (kbit/s) until then, every 0.2 s: %s", strings.Join(before, " "))
	t.Logf("keyframes only %.1f s after the viewer started; target %d kbit/s (%s)", since.Sub(start).Seconds(), st.Stream.TargetKbps, st.Stream.Adaptation)

	// 22 s watched, the last 20 counted (what arrives in the first 2 s
	// was sent before the switch): keyframes come through 2 to 8 s apart
	// here (their 2.2 to 2.9 s latency says the link's queue stays full),
	// and in one CI run none came in a 10 s window.
	window := 22 * time.Second
	var targets []int
	var ests []string
	for time.Since(since) < window {
		st := status(t, base)
		targets = append(targets, st.Stream.TargetKbps)
		for _, s := range st.Sessions {
			if s.Receiving == keyOnly {
				ests = append(ests, fmt.Sprint(s.EstimateKbps))
			}
		}
		time.Sleep(500 * time.Millisecond) // sampling the target
	}
	t.Logf("the hopeless viewer's estimates (kbit/s, every 0.5 s): %s", strings.Join(ests, " "))
	dumpRecords(t, slow.Records())
	var keys, others, bytes int
	for _, r := range slow.Records() {
		if r.Arrival.After(since.Add(2*time.Second)) && !r.RefLost {
			bytes += r.Bytes
			if r.Keyframe {
				keys++
			} else {
				others++
			}
		}
	}
	secs := (window - 2*time.Second).Seconds()
	t.Logf("hopeless viewer: %d intact keyframes (%.2f/s) and %d other pictures in %.0f s, %.0f kbit/s; target %d..%d kbit/s",
		keys, float64(keys)/secs, others, secs, float64(bytes)*8/1000/secs, slices.Min(targets), slices.Max(targets))
	if slices.Min(targets) < cfg.Encoder.BitrateKbps*9/10 {
		t.Errorf("the hopeless viewer dragged the target down to %d kbit/s", slices.Min(targets))
	}
	if keys < 1 {
		t.Errorf("the hopeless viewer got %d intact keyframes in %.0f s", keys, secs)
	}
	if g := maxGap(fast.since(start), time.Now()); g > time.Second {
		t.Errorf("the fast viewer went %s without a picture", g.Round(time.Millisecond))
	}
}
