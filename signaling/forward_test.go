package signaling

import (
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
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
	sub := &subscriber{ch: make(chan *auPackets, 8)}
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
