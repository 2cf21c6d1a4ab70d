package compositor

import (
	"bytes"
	"testing"
	"time"

	"github.com/go-gst/go-gst/gst"
	"github.com/go-gst/go-gst/gst/app"
)

// The ring the appsink's C callbacks fill hands Go every picture in order
// with what the pull loop needs of it (keyframe flag, PTS, capture time),
// loses the newest and counts them when Go takes none, and tells the end
// of stream, all without a call between Go and C per picture.
func TestAUQueueKeepsOrderCountsLossesAndSeesTheEnd(t *testing.T) {
	initGStreamer()
	const made, keyEvery = 100, 10
	p, err := gst.NewPipelineFromString("videotestsrc num-buffers=100 ! video/x-raw,width=64,height=48,framerate=30/1 ! " +
		"x264enc key-int-max=10 tune=zerolatency speed-preset=ultrafast ! " +
		"video/x-h264,stream-format=byte-stream,alignment=au ! appsink name=s sync=false")
	if err != nil {
		t.Fatal(err)
	}
	el, err := p.GetElementByName("s")
	if err != nil {
		t.Fatal(err)
	}
	wake := newNotifier()
	q, err := queueAUs(app.SinkFromElement(el), false, wake) // not prompt: only the end wakes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.SetState(gst.StateNull)
		q.close()
	})
	start := time.Now()
	if err := p.SetState(gst.StatePlaying); err != nil {
		t.Fatal(err)
	}
	select {
	case <-wake:
	case <-time.After(30 * time.Second):
		t.Fatal("no wake-up at the end of stream")
	}
	if !q.ended() {
		t.Fatal("woken, but the queue does not say the stream ended")
	}

	var got int
	last := time.Duration(-1)
	for {
		au, ok := q.take()
		if !ok {
			break
		}
		if !bytes.HasPrefix(au.Data, []byte{0, 0, 0, 1}) {
			t.Fatalf("picture %d does not start with a start code: % x", got, au.Data[:min(len(au.Data), 8)])
		}
		if au.PTS <= last {
			t.Fatalf("picture %d has PTS %s after %s", got, au.PTS, last)
		}
		last = au.PTS
		if want := got%keyEvery == 0; au.Keyframe != want {
			t.Errorf("picture %d keyframe %v, want %v", got, au.Keyframe, want)
		}
		if au.Capture.Before(start.Add(-time.Second)) || au.Capture.After(time.Now()) {
			t.Errorf("picture %d captured at %s, outside the test's run", got, au.Capture)
		}
		got++
	}
	if want := 64; got != want {
		t.Errorf("took %d pictures from a ring Go never drained, want the ring's %d", got, want)
	}
	if lost := q.dropped(); lost != made-uint64(got) {
		t.Errorf("ring counts %d lost, want %d (%d made, %d taken)", lost, made-got, made, got)
	}
}
