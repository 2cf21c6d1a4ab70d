package signaling

import (
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/pipcam/pipcam/media"
)

func key(n int) media.AccessUnit {
	return media.AccessUnit{Data: append([]byte{0, 0, 0, 1, 0x67, 0x42, 0, 0x1f, 0, 0, 0, 1, 0x68, 0xce, 0, 0, 0, 1, 0x65}, make([]byte, n)...), Keyframe: true}
}

func delta(n int) media.AccessUnit {
	return media.AccessUnit{Data: append([]byte{0, 0, 0, 1, 0x41}, make([]byte, n)...)}
}

// TestFanoutSlowViewer: a viewer whose queue is full drops, waits for the
// next keyframe and asks for one; a fast viewer gets everything; publish
// never blocks.
func TestFanoutSlowViewer(t *testing.T) {
	src := newIdleSource()
	f := newFanout(src, testLogger())
	slow := f.add(1, nil)
	fast := f.add(100, nil)
	now := time.Now()

	f.publish(delta(100), now) // nobody has started: both wait for a keyframe
	if len(slow.ch) != 0 || len(fast.ch) != 0 {
		t.Fatal("a delta AU was queued before the first keyframe")
	}
	f.publish(key(3000), now)  // both start
	f.publish(delta(100), now) // slow's queue (1) is full: dropped
	if src.requests.Load() != 1 {
		t.Fatalf("%d keyframe requests after the drop, want 1", src.requests.Load())
	}
	f.publish(delta(100), now) // slow waits for a keyframe: skipped, no new request
	if src.requests.Load() != 1 {
		t.Errorf("%d keyframe requests while waiting, want still 1", src.requests.Load())
	}
	if got := slow.drops.Load(); got != 1 {
		t.Errorf("slow drops %d, want 1", got)
	}
	<-slow.ch // the slow viewer reads its one queued AU (the keyframe)
	f.publish(delta(100), now)
	if len(slow.ch) != 0 {
		t.Error("slow viewer got a delta AU while waiting for a keyframe")
	}
	f.publish(key(3000), now)
	if b := <-slow.ch; !b.keyframe {
		t.Error("slow viewer resumed on a non-keyframe")
	}
	if len(fast.ch) != 5 {
		t.Errorf("fast viewer has %d AUs, want 5", len(fast.ch))
	}

	// Packets: one shared sequence, marker on the last packet of each AU,
	// 90 kHz timestamps, MTU respected.
	var last uint16
	for i := 0; len(fast.ch) > 0; i++ {
		b := <-fast.ch
		for j, p := range b.pkts {
			if i > 0 || j > 0 {
				if p.SequenceNumber != last+1 {
					t.Fatalf("sequence %d after %d", p.SequenceNumber, last)
				}
			}
			last = p.SequenceNumber
			if p.Marker != (j == len(b.pkts)-1) {
				t.Errorf("AU %d packet %d marker %v", i, j, p.Marker)
			}
			if n := p.MarshalSize(); n > rtpMTU {
				t.Errorf("packet of %d bytes > MTU %d", n, rtpMTU)
			}
		}
	}
	f.remove(slow)
	f.remove(fast)
	if f.viewers() != 0 {
		t.Error("subscribers left")
	}
}

func TestPTSTo90k(t *testing.T) {
	for d, want := range map[time.Duration]int64{
		0:                           0,
		time.Second:                 90000,
		time.Second / 15:            6000,
		1000 * time.Hour:            324000000000,
		time.Second + time.Second/3: 120000,
	} {
		if got := ptsTo90k(d); got != want {
			t.Errorf("ptsTo90k(%s) = %d, want %d", d, got, want)
		}
	}
}

func TestMeter(t *testing.T) {
	m := meter{window: 2 * time.Second}
	t0 := time.Unix(1000, 0)
	for i := 0; i < 60; i++ { // 15 fps, 1000 bytes each, for 4 s
		m.add(t0.Add(time.Duration(i)*time.Second/15), 1000)
	}
	kbps, fps := m.rates(t0.Add(4 * time.Second))
	if fps < 14.9 || fps > 15.1 || kbps < 119 || kbps > 121 {
		t.Errorf("rates %.1f kbit/s %.1f fps, want 120 and 15", kbps, fps)
	}
	if kbps, fps := m.rates(t0.Add(10 * time.Second)); kbps != 0 || fps != 0 {
		t.Errorf("stale rates %.1f %.1f, want 0", kbps, fps)
	}
}

// The fan-out writes a viewer's AU itself only when nothing of that
// viewer's is queued or being written (else the AU would overtake it),
// once a first write succeeded (until then SRTP may not have started), and
// not to a viewer on keyframes only (spread out by its own goroutine).
func TestFanoutWritesInlineOnlyWhenNothingIsQueued(t *testing.T) {
	track, err := webrtc.NewTrackLocalStaticRTP(h264Codec, "video", "pipcam")
	if err != nil {
		t.Fatal(err)
	}
	ss := &session{log: testLogger(), track: track, done: make(chan struct{}), slow: newThrottle(slowViewerLogEvery, 1)}
	f := newFanout(newIdleSource(), testLogger())
	w := newViewerWriter(ss)
	sub := f.add(10, w)
	now := time.Now()
	publish := func() (inline, queued bool) {
		i0, q0 := f.inlineAUs.Load(), len(sub.ch)
		f.publish(key(100), now)
		return f.inlineAUs.Load() > i0, len(sub.ch) > q0
	}

	// Its goroutine writes what was queued, as forward does.
	drain := func() {
		for len(sub.ch) > 0 {
			w.writeAU(sub, <-sub.ch, nil)
			sub.pending.Add(-1)
		}
	}
	if inline, queued := publish(); inline || !queued {
		t.Fatalf("before any write succeeded: inline %v queued %v, want queued", inline, queued)
	}
	drain()
	if ss.packetsSent.Load() == 0 {
		t.Fatal("the queued AU's packets were not written")
	}
	sub.pending.Add(1) // an AU its goroutine is still writing
	if inline, queued := publish(); inline || !queued {
		t.Fatalf("with an AU still being written: inline %v queued %v, want queued behind it", inline, queued)
	}
	sub.pending.Add(-1)
	drain()
	sent := ss.packetsSent.Load()
	if inline, queued := publish(); !inline || queued {
		t.Fatalf("nothing queued: inline %v queued %v, want inline", inline, queued)
	}
	if ss.packetsSent.Load() == sent {
		t.Error("the inline AU's packets were not written")
	}
	sub.gate.set(true, 1000)
	if inline, queued := publish(); inline || !queued {
		t.Fatalf("keyframes only: inline %v queued %v, want queued", inline, queued)
	}
}
