package compositor

import (
	"sort"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/go-gst/go-gst/gst"
)

// The boundary's cost in delay: how long a camera's picture waits between
// the camera's intervideosink and the mixer's intervideosrc, which hands
// it on. The same GstMemory crosses (no copy of the pixels), so a picture
// is followed by its memory's address. Expected: up to half an output
// frame interval (the intervideosrc runs at twice the output rate) plus
// the phase between the two; logged, not asserted (timing), but every
// picture must cross.
func TestBoundaryDelay(t *testing.T) {
	g := startGraph(t, testConfig())
	aus, cancel := g.Subscribe(64)
	defer cancel()
	nextAUs(t, aus, 5)

	var mu sync.Mutex
	sent := map[uintptr]time.Time{}
	var delays []time.Duration
	memOf := func(info *gst.PadProbeInfo) uintptr {
		buf := info.GetBuffer()
		if buf == nil || buf.NumMemoryBlocks() == 0 {
			return 0
		}
		return uintptr(unsafe.Pointer(buf.PeekMemory(0).Instance()))
	}
	r := g.cams[0].run()
	sink, err := r.pipeline.GetElementByName(g.plan.Cameras[0].SinkName)
	if err != nil {
		t.Fatal(err)
	}
	sink.GetStaticPad("sink").AddProbe(gst.PadProbeTypeBuffer, func(_ *gst.Pad, info *gst.PadProbeInfo) gst.PadProbeReturn {
		if m := memOf(info); m != 0 {
			mu.Lock()
			sent[m] = time.Now()
			mu.Unlock()
		}
		return gst.PadProbeOK
	})
	src, err := g.current().pipeline.GetElementByName(g.plan.Cameras[0].Input)
	if err != nil {
		t.Fatal(err)
	}
	src.GetStaticPad("src").AddProbe(gst.PadProbeTypeBuffer, func(_ *gst.Pad, info *gst.PadProbeInfo) gst.PadProbeReturn {
		now := time.Now()
		if m := memOf(info); m != 0 {
			mu.Lock()
			if at, ok := sent[m]; ok {
				delays = append(delays, now.Sub(at))
				delete(sent, m)
			}
			mu.Unlock()
		}
		return gst.PadProbeOK
	})
	nextAUs(t, aus, 60) // four seconds at 15 fps
	mu.Lock()
	defer mu.Unlock()
	if len(delays) < 40 {
		t.Fatalf("only %d of the camera's pictures were seen crossing into the mixer", len(delays))
	}
	sort.Slice(delays, func(i, j int) bool { return delays[i] < delays[j] })
	t.Logf("boundary delay over %d pictures: p50 %s, p90 %s, max %s (output frame interval %s)",
		len(delays), delays[len(delays)/2].Round(time.Millisecond), delays[len(delays)*9/10].Round(time.Millisecond),
		delays[len(delays)-1].Round(time.Millisecond), time.Second/15)
}
