package congestion

import (
	"encoding/binary"
	"errors"

	"github.com/pion/rtcp"
)

// referenceUnit is the step of a feedback packet's reference time (µs);
// the 24-bit field wraps after about 12 days.
const (
	referenceUnit = 64_000
	referenceWrap = 1 << 24
)

// status is what one feedback packet says of one sequence number.
type status struct {
	seq      uint16
	received bool
	arrival  int64 // µs on the viewer's clock, when received
	delta    uint8 // bytes of its receive delta in the packet (Parse's)
}

// Feedback is what one transport-wide feedback packet says, kept in memory
// that the next packet reuses: a crowd's feedback, ten packets a second
// each, is read without allocating (pion's Unmarshal allocates a chunk
// and a delta per packet reported, a third of what reading it cost).
type Feedback struct {
	reference uint32   // the 24-bit reference time
	list      []status // arrivals in µs from the reference time
}

var errFeedback = errors.New("not a well-formed transport-wide feedback packet")

// Tags of the packet (draft-holmer-rmcat-transport-wide-cc-extensions-01).
const (
	feedbackType   = 205 // transport-layer feedback
	feedbackFormat = 15  // transport-wide congestion control
	feedbackHeader = 20  // RTCP header, both SSRCs, base, count, reference, fb count
	deltaUnit      = 250 // µs
)

// IsFeedback says whether b starts with a transport-wide feedback header.
func IsFeedback(b []byte) bool {
	return len(b) >= 4 && b[0]>>6 == 2 && b[0]&0x1f == feedbackFormat && b[1] == feedbackType
}

// Parse reads the transport-wide feedback packet at the head of b (one
// packet of a compound) and returns its length, where the next one starts.
func (f *Feedback) Parse(b []byte) (int, error) {
	if !IsFeedback(b) || len(b) < feedbackHeader {
		return 0, errFeedback
	}
	size := 4 * (int(binary.BigEndian.Uint16(b[2:])) + 1)
	if size < feedbackHeader || size > len(b) {
		return 0, errFeedback
	}
	p := b[:size]
	seq := binary.BigEndian.Uint16(p[12:])
	count := int(binary.BigEndian.Uint16(p[14:]))
	f.reference = uint32(p[16])<<16 | uint32(p[17])<<8 | uint32(p[18])
	f.list = f.list[:0]
	add := func(symbol uint16) {
		s := status{seq: seq}
		switch symbol {
		case rtcp.TypeTCCPacketReceivedSmallDelta:
			s.delta = 1
		case rtcp.TypeTCCPacketReceivedLargeDelta:
			s.delta = 2
		}
		f.list = append(f.list, s)
		seq++
	}
	pos := feedbackHeader
	for len(f.list) < count {
		if pos+2 > size {
			return 0, errFeedback
		}
		c := binary.BigEndian.Uint16(p[pos:])
		pos += 2
		left := count - len(f.list)
		switch {
		case c&0x8000 == 0: // run length: a 2-bit symbol, a 13-bit run
			for n := min(int(c&0x1fff), left); n > 0; n-- {
				add(c >> 13 & 3)
			}
		case c&0x4000 == 0: // status vector of 14 one-bit symbols
			for i := 13; i >= 0 && left > 0; i, left = i-1, left-1 {
				add(c >> i & 1)
			}
		default: // status vector of 7 two-bit symbols
			for i := 6; i >= 0 && left > 0; i, left = i-1, left-1 {
				add(c >> (2 * i) & 3)
			}
		}
	}
	var at int64
	for i := range f.list {
		s := &f.list[i]
		switch {
		case s.delta == 0:
			continue
		case pos+int(s.delta) > size:
			return 0, errFeedback
		case s.delta == 1:
			at += deltaUnit * int64(p[pos])
		default:
			at += deltaUnit * int64(int16(binary.BigEndian.Uint16(p[pos:])))
		}
		pos += int(s.delta)
		s.received, s.arrival = true, at
	}
	return size, nil
}

// Base is the first sequence number the packet reports (0 if none).
func (f *Feedback) Base() uint16 {
	if len(f.list) == 0 {
		return 0
	}
	return f.list[0].seq
}

// fromRTCP takes a packet pion parsed.
func (f *Feedback) fromRTCP(fb *rtcp.TransportLayerCC) {
	f.reference = fb.ReferenceTime
	f.list = statuses(fb, 0, f.list)
}

// statuses lists what fb reports, in sequence order, into out (reused).
// base is the viewer's clock at the reference time; arrivals are relative
// to the viewer's clock, so only their differences mean anything.
func statuses(fb *rtcp.TransportLayerCC, base int64, out []status) []status {
	out = out[:0]
	seq := fb.BaseSequenceNumber
	left := int(fb.PacketStatusCount)
	deltas := fb.RecvDeltas
	at := base
	emit := func(symbol uint16) {
		s := status{seq: seq}
		switch symbol {
		case rtcp.TypeTCCPacketReceivedSmallDelta, rtcp.TypeTCCPacketReceivedLargeDelta:
			if len(deltas) > 0 {
				at += deltas[0].Delta
				deltas = deltas[1:]
				s.received, s.arrival = true, at
			}
		}
		out = append(out, s)
		seq++
		left--
	}
	for _, c := range fb.PacketChunks {
		switch c := c.(type) {
		case *rtcp.RunLengthChunk:
			for i := 0; i < int(c.RunLength) && left > 0; i++ {
				emit(c.PacketStatusSymbol)
			}
		case *rtcp.StatusVectorChunk:
			for _, sym := range c.SymbolList {
				if left == 0 {
					break
				}
				emit(sym) // one-bit symbols are 0 (lost) and 1 (small delta)
			}
		}
	}
	return out
}

// referenceClock unwraps the 24-bit reference times of one viewer's
// feedback into µs on its clock.
type referenceClock struct {
	last   uint32
	cycles int64
	seen   bool
}

func (c *referenceClock) unwrap(ref uint32) int64 {
	ref &= referenceWrap - 1
	if c.seen {
		switch d := int64(ref) - int64(c.last); {
		case d < -referenceWrap/2:
			c.cycles++
		case d > referenceWrap/2:
			c.cycles-- // a late packet from before the wrap
		}
	}
	c.last, c.seen = ref, true
	return (c.cycles*referenceWrap + int64(ref)) * referenceUnit
}
