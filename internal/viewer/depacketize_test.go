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

func TestAssembler(t *testing.T) {
	idr := append([]byte{0, 0, 0, 1, 0x67, 0x42, 0xe0, 0x1f, 0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80, 0, 0, 0, 1, 0x65}, bytes.Repeat([]byte{0x11}, 5000)...)
	p := append([]byte{0, 0, 0, 1, 0x41}, bytes.Repeat([]byte{0x22}, 300)...)
	var pay codecs.H264Payloader
	var seq uint16 = 65530 // wraps
	var a assembler
	gaps := 0
	var got []AU
	for i, au := range [][]byte{idr, p, p} {
		for _, pkt := range packetize(t, &pay, &seq, uint32(i*6000), au) {
			got = append(got, a.push(pkt, time.Now(), time.Time{}, func() { gaps++ })...)
		}
	}
	if len(got) != 3 || gaps != 0 {
		t.Fatalf("%d AUs, %d gaps", len(got), gaps)
	}
	if !got[0].Decodable || !got[0].Keyframe || got[1].Keyframe {
		t.Errorf("flags: %+v %+v", got[0].Keyframe, got[1].Keyframe)
	}
	if want := []int{7, 8, 5}; !slices.Equal(media.Types(got[0].Data), want) {
		t.Errorf("keyframe NAL types %v, want %v", media.Types(got[0].Data), want)
	}
	if !bytes.Equal(got[1].Data, p) {
		t.Error("P frame changed in transit")
	}

	// A lost packet in the middle of an AU drops that AU only.
	pkts := packetize(t, &pay, &seq, 30000, idr)
	got = nil
	for i, pkt := range pkts {
		if i == 1 {
			continue
		}
		got = append(got, a.push(pkt, time.Now(), time.Time{}, func() { gaps++ })...)
	}
	for _, pkt := range packetize(t, &pay, &seq, 36000, p) {
		got = append(got, a.push(pkt, time.Now(), time.Time{}, func() { gaps++ })...)
	}
	if gaps != 1 || len(got) != 1 || got[0].RTPTimestamp != 36000 {
		t.Errorf("after loss: %d gaps, %d AUs", gaps, len(got))
	}
}
