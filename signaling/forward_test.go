package signaling

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/pipcam/pipcam/internal/viewer"
)

// TestSlowViewerLogged: a viewer whose queue overflowed (its AUs skip a
// stretch of the shared sequence) is logged, at most once per
// slowViewerLogEvery, and its counters move.
func TestSlowViewerLogged(t *testing.T) {
	var logs logBuffer
	track, err := webrtc.NewTrackLocalStaticRTP(h264Codec, "video", "pipcam")
	if err != nil {
		t.Fatal(err)
	}
	ss := &session{log: slogTo(&logs), track: track, done: make(chan struct{}), slow: newThrottle(slowViewerLogEvery, 1)}
	sub := &subscriber{ch: make(chan *auPackets, 8), w: newViewerWriter(ss)}
	batch := func(seq uint16) *auPackets {
		return &auPackets{pkts: []*rtp.Packet{{Header: rtp.Header{SequenceNumber: seq}, Payload: []byte{1, 2, 3}}}}
	}
	for _, seq := range []uint16{100, 101, 110, 111, 130} { // two skips
		sub.ch <- batch(seq)
	}
	sub.drops.Add(29)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		ss.forward(sub)
	}()
	waitFor(t, 5*time.Second, "all batches forwarded", func() bool { return len(sub.ch) == 0 && ss.packetsSent.Load() == 5 })
	close(ss.done)
	<-finished
	if n := strings.Count(logs.String(), "viewer too slow"); n != 1 || !strings.Contains(logs.String(), "dropped_total=29") {
		t.Errorf("%d slow-viewer lines, want 1 with the drop count:\n%s", n, logs.String())
	}
	if ss.bytesSent.Load() != 5*(rtpHeaderLen+3) {
		t.Errorf("bytes sent %d", ss.bytesSent.Load())
	}
}

// A real UDP viewer is written inline by the fan-out; on keyframes only
// (spread out at its budget) it is written by its own goroutine, and back
// on the whole stream inline again. Through both switches its packets come
// numbered without a gap and no AU's packets come between another's (an
// RTP timestamp never goes back). When the fan-out may write inline is
// TestFanoutWritesInlineOnlyWhenNothingIsQueued.
func TestInlineAndQueuedWritesKeepOrder(t *testing.T) {
	checkLeaks(t)
	src := newReplaySource(t)
	srv, hs := startServer(t, src, nil)
	var (
		mu   sync.Mutex
		seen = map[uint16]bool{}
		seqs []uint16 // first arrivals, in order
		tss  []uint32 // and their RTP timestamps
	)
	dialWatch(t, hs.URL, viewer.Options{OnRTP: func(p *rtp.Packet) {
		mu.Lock()
		defer mu.Unlock()
		if !seen[p.SequenceNumber] {
			seen[p.SequenceNumber] = true
			seqs = append(seqs, p.SequenceNumber)
			tss = append(tss, p.Timestamp)
		}
	}})
	received := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(seqs)
	}
	waitFor(t, 10*time.Second, "30 packets", func() bool { return received() >= 30 })
	if srv.fan.inlineAUs.Load() == 0 {
		t.Fatal("no AU was written inline to a UDP viewer")
	}
	var sub *subscriber
	srv.mu.Lock()
	for _, ss := range srv.sessions {
		sub = ss.subscriber()
	}
	srv.mu.Unlock()

	// Keyframes only at 20 kbit/s: half a second after each packet.
	sub.gate.set(true, 20)
	queued0, n := srv.fan.queuedAUs.Load(), received()
	src.RequestKeyframe()
	waitFor(t, 5*time.Second, "a keyframe through the viewer's queue, begun", func() bool {
		return srv.fan.queuedAUs.Load() > queued0 && received() > n
	})
	if sub.pending.Load() == 0 {
		t.Fatal("the keyframe was written at once, not spread out")
	}
	sub.gate.set(false, 0)
	inline0, n := srv.fan.inlineAUs.Load(), received()
	src.RequestKeyframe()
	waitFor(t, 8*time.Second, "10 AUs inline again, and their packets", func() bool {
		return srv.fan.inlineAUs.Load() >= inline0+10 && received() >= n+10
	})

	mu.Lock()
	defer mu.Unlock()
	for i := 1; i < len(seqs); i++ {
		if seqs[i]-seqs[i-1] != 1 {
			t.Fatalf("packet %d has sequence number %d after %d: want the next (out of order or a gap)", i, seqs[i], seqs[i-1])
		}
		if int32(tss[i]-tss[i-1]) < 0 {
			t.Fatalf("packet %d (sequence number %d) has timestamp %d after %d: an earlier AU's packet after a later one's", i, seqs[i], tss[i], tss[i-1])
		}
	}
}
