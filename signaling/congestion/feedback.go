package congestion

import "github.com/pion/rtcp"

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
