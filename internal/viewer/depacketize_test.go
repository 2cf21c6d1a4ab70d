package viewer

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/pipcam/pipcam/media"
)

func packetize(t *testing.T, p *codecs.H264Payloader, seq *uint16, ts uint32, au []byte) []*rtp.Packet {
	t.Helper()
	var out []*rtp.Packet
	pl := p.Payload(1188, au)
	for i, b := range pl {
		out = append(out, &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: *seq, Timestamp: ts, Marker: i == len(pl)-1}, Payload: b})
		*seq++
	}
	return out
}

// push feeds packets to a jitter buffer at the given times and assembles
// what comes out.
func feed(t *testing.T, j *jitter, pkts []*rtp.Packet, at time.Time) (got []AU, lost int) {
	t.Helper()
	for _, pkt := range pkts {
		aus, l := j.push(pkt, at)
		lost += l
		for _, au := range aus {
			a, ok := assemble(au, 3, at)
			if !ok {
				t.Fatal("assemble failed on a complete AU")
			}
			got = append(got, a)
		}
	}
	return got, lost
}

var (
	testIDR = append([]byte{0, 0, 0, 1, 0x67, 0x42, 0xe0, 0x1f, 0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80, 0, 0, 0, 1, 0x65}, bytes.Repeat([]byte{0x11}, 5000)...)
	testP   = append([]byte{0, 0, 0, 1, 0x41}, bytes.Repeat([]byte{0x22}, 300)...)
)

// stream packetizes access units one after the other (sequence from 100,
// 90 kHz timestamps 6000 apart), one packet slice per AU.
func stream(t *testing.T, aus ...[]byte) [][]*rtp.Packet {
	t.Helper()
	var pay codecs.H264Payloader
	var seq uint16 = 100
	out := make([][]*rtp.Packet, len(aus))
	for i, au := range aus {
		out[i] = packetize(t, &pay, &seq, uint32(i*6000), au)
	}
	return out
}

func TestJitterInOrder(t *testing.T) {
	var pay codecs.H264Payloader
	var seq uint16 = 65530 // wraps
	var j jitter
	var pkts []*rtp.Packet
	for i, au := range [][]byte{testIDR, testP, testP} {
		pkts = append(pkts, packetize(t, &pay, &seq, uint32(i*6000), au)...)
	}
	capture := time.Unix(1700000000, 0)
	ext, _ := rtp.NewAbsCaptureTimeExtension(capture).Marshal()
	if err := pkts[0].SetExtension(3, ext); err != nil {
		t.Fatal(err)
	}
	got, lost := feed(t, &j, pkts, time.Now())
	if len(got) != 3 || lost != 0 {
		t.Fatalf("%d AUs, %d lost", len(got), lost)
	}
	if !got[0].Decodable || !got[0].Keyframe || got[1].Keyframe {
		t.Errorf("flags: %+v %+v", got[0].Keyframe, got[1].Keyframe)
	}
	if want := []int{7, 8, 5}; !slices.Equal(media.Types(got[0].Data), want) {
		t.Errorf("keyframe NAL types %v, want %v", media.Types(got[0].Data), want)
	}
	if !bytes.Equal(got[1].Data, testP) {
		t.Error("P frame changed in transit")
	}
	if !got[0].Capture.Equal(capture) || !got[1].Capture.IsZero() {
		t.Errorf("capture times %v, %v; want %v on the first only", got[0].Capture, got[1].Capture, capture)
	}
}

// A packet that comes late (reordered, or retransmitted after a NACK)
// completes its AU; AUs behind it wait and come out in order.
func TestJitterWaitsForARetransmission(t *testing.T) {
	var j jitter
	aus := stream(t, testIDR, testP)
	idr, p := aus[0], aus[1]
	t0 := time.Now()
	late := idr[2]
	rest := append(append(append([]*rtp.Packet{}, idr[:2]...), idr[3:]...), p...)
	got, lost := feed(t, &j, rest, t0)
	if len(got) != 0 || lost != 0 {
		t.Fatalf("before the retransmission: %d AUs, %d lost", len(got), lost)
	}
	got, lost = feed(t, &j, []*rtp.Packet{late}, t0.Add(jitterWait/2))
	if len(got) != 2 || lost != 0 || !bytes.Equal(got[0].Data[len(got[0].Data)-100:], testIDR[len(testIDR)-100:]) || got[1].RTPTimestamp != 6000 {
		t.Fatalf("after the retransmission: %d AUs, %d lost", len(got), lost)
	}
}

// A packet that never comes loses its AU after jitterWait; the next AU
// comes out.
func TestJitterGivesUpAHole(t *testing.T) {
	var j jitter
	aus := stream(t, testIDR, testP, testP)
	idr, p1, p2 := aus[0], aus[1], aus[2]
	t0 := time.Now()
	got, lost := feed(t, &j, append(append([]*rtp.Packet{idr[0]}, idr[2:]...), p1...), t0)
	if len(got) != 0 || lost != 0 {
		t.Fatalf("%d AUs, %d lost while waiting", len(got), lost)
	}
	got, lost = feed(t, &j, p2, t0.Add(jitterWait+time.Millisecond))
	if lost != 1 || len(got) != 2 || got[0].RTPTimestamp != 6000 || got[1].RTPTimestamp != 12000 {
		t.Fatalf("after the wait: %d lost, %d AUs", lost, len(got))
	}
	// A duplicate of what was given up changes nothing.
	if got, lost := feed(t, &j, idr[1:2], t0.Add(time.Second)); len(got) != 0 || lost != 0 {
		t.Fatalf("late duplicate: %d AUs, %d lost", len(got), lost)
	}
}

// A whole keyframe behind a hole is delivered at once: the AU with the
// hole is given up without waiting for its retransmission.
func TestJitterJumpsToAKeyframe(t *testing.T) {
	var j jitter
	aus := stream(t, testIDR, testP, testIDR) // the P frame will be lost
	p1, p2, idr := aus[0], aus[1], aus[2]
	if !keyframeStart(idr[0].Payload) || keyframeStart(p2[0].Payload) {
		t.Fatal("keyframeStart misjudges pipcam's packets")
	}
	t0 := time.Now()
	got, _ := feed(t, &j, p1, t0)
	if len(got) != 1 {
		t.Fatalf("%d AUs from the first keyframe", len(got))
	}
	// The P frame between them never comes.
	got, lost := feed(t, &j, idr, t0.Add(10*time.Millisecond))
	if lost != 1 || len(got) != 1 || got[0].RTPTimestamp != 12000 || !got[0].Decodable {
		t.Fatalf("keyframe behind a hole: %d lost, %d AUs", lost, len(got))
	}
}
