package signaling

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pipcam/pipcam/media"
)

// testAUs is the real H.264 the replay source plays, made once by TestMain
// with gst-launch-1.0 (x264enc, constrained baseline, IDR every 30 frames).
var (
	testAUs    []media.AccessUnit
	skipReason string
)

// TestMain makes the test H.264. Without it the media tests cannot run:
// under a normal go test that is a failure naming what to install; only
// -short skips them.
func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "pipcam-signaling-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		os.Exit(1)
	}
	testAUs, err = makeH264(dir)
	if err != nil {
		msg := err.Error() + "\n" + installHint
		if !testing.Short() {
			fmt.Fprintln(os.Stderr, "FAIL: cannot make the test H.264:", msg)
			os.RemoveAll(dir)
			os.Exit(1)
		}
		skipReason = msg
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const installHint = "the signaling tests need gst-launch-1.0 (Debian package gstreamer1.0-tools) with videotestsrc (gstreamer1.0-plugins-base) and x264enc (gstreamer1.0-plugins-ugly): run make deps"

func makeH264(dir string) ([]media.AccessUnit, error) {
	out := filepath.Join(dir, "test.h264")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "gst-launch-1.0", "-q",
		"videotestsrc", "num-buffers=60", "is-live=false", "!",
		"video/x-raw,width=320,height=240,framerate=15/1", "!",
		"x264enc", "tune=zerolatency", "speed-preset=ultrafast", "key-int-max=30", "bframes=0", "!",
		"video/x-h264,profile=constrained-baseline,stream-format=byte-stream,alignment=au", "!",
		"filesink", "location="+out)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("gst-launch-1.0 (needed for test H.264): %w: %s", err, bytes.TrimSpace(b))
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("read test H.264: %w", err)
	}
	aus := splitAUs(data)
	if len(aus) == 0 || !aus[0].Keyframe {
		return nil, fmt.Errorf("test H.264: %d AUs, first not a keyframe", len(aus))
	}
	return aus, nil
}

// splitAUs cuts an Annex-B stream into access units: a new AU starts at an
// AUD, SPS or PPS that follows a slice, or at a slice whose first_mb is 0
// (first byte after the header has its top bit set: ue(v) first_mb_in_slice
// == 0). x264 emits one slice per picture here.
func splitAUs(data []byte) []media.AccessUnit {
	var aus []media.AccessUnit
	var cur [][]byte
	sawSlice := false
	flush := func() {
		if len(cur) == 0 {
			return
		}
		var b []byte
		key := false
		for _, n := range cur {
			b = append(b, 0, 0, 0, 1)
			b = append(b, n...)
			if media.NALType(n) == media.NALIDR {
				key = true
			}
		}
		aus = append(aus, media.AccessUnit{Data: b, Keyframe: key})
		cur, sawSlice = nil, false
	}
	for _, n := range media.SplitNALUs(data) {
		t := media.NALType(n)
		isSlice := t == media.NALSlice || t == media.NALIDR
		switch {
		case t == media.NALAUD || t == media.NALSPS || t == media.NALPPS || t == media.NALSEI:
			if sawSlice {
				flush()
			}
		case isSlice && sawSlice && len(n) > 1 && n[1]&0x80 != 0:
			flush()
		}
		cur = append(cur, n)
		if isSlice {
			sawSlice = true
		}
	}
	flush()
	return aus
}

// replaySource is a VideoSource that loops testAUs at 15 fps. RequestKeyframe
// jumps to the next IDR in the file (the file has one every 30 frames), so
// a joining viewer waits for at most one frame, like the real graph's
// force-key-unit.
type replaySource struct {
	aus    []media.AccessUnit
	period time.Duration

	keyReq   atomic.Bool
	requests atomic.Int64

	mu   sync.Mutex
	subs map[chan media.AccessUnit]struct{}

	stop chan struct{}
	done chan struct{}
}

func newReplaySource(t testing.TB) *replaySource {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	r := &replaySource{
		aus:    testAUs,
		period: time.Second / 15,
		subs:   map[chan media.AccessUnit]struct{}{},
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	go r.run()
	t.Cleanup(func() {
		close(r.stop)
		<-r.done
	})
	return r
}

// Prompt changes nothing: the replay is always prompt.
func (r *replaySource) Prompt() func() { return func() {} }

func (r *replaySource) SubscribeBatched(buffer int) (<-chan media.AccessUnit, func()) {
	ch := make(chan media.AccessUnit, buffer)
	r.mu.Lock()
	r.subs[ch] = struct{}{}
	r.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			r.mu.Lock()
			delete(r.subs, ch)
			r.mu.Unlock()
		})
	}
}

func (r *replaySource) RequestKeyframe() {
	r.requests.Add(1)
	r.keyReq.Store(true)
}

func (r *replaySource) run() {
	defer close(r.done)
	tick := time.NewTicker(r.period)
	defer tick.Stop()
	idx := 0
	var pts time.Duration
	for {
		select {
		case <-r.stop:
			return
		case <-tick.C:
		}
		if r.keyReq.Swap(false) && !r.aus[idx].Keyframe {
			for !r.aus[idx].Keyframe {
				idx = (idx + 1) % len(r.aus)
			}
		}
		au := r.aus[idx]
		au.PTS, au.Duration = pts, r.period
		au.Capture = time.Now() // "captured" as it is published
		pts += r.period
		idx = (idx + 1) % len(r.aus)
		r.mu.Lock()
		for ch := range r.subs {
			select {
			case ch <- au:
			default:
			}
		}
		r.mu.Unlock()
	}
}
