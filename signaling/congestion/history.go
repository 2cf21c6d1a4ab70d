// Package congestion estimates what one viewer's link takes from its
// transport-wide congestion feedback (draft-holmer-rmcat-transport-wide-
// cc-extensions-01): a delay-gradient detector and a loss rule after
// Google Congestion Control (draft-ietf-rmcat-gcc-02), sized for one video
// stream of a few hundred kbit/s. It replaces pion's GCC, which cost every
// viewer two goroutines, a channel hand-off per feedback packet and a map
// and list entry per RTP packet; here a viewer is a fixed ring and a few
// numbers, and all work happens on the caller's goroutine.
package congestion

import "time"

// historySize is how many sent packets are remembered for feedback (a
// power of two): 8 s at 400 kbit/s, about 1 s at 4 Mbit/s; feedback comes
// every 50 to 250 ms.
const historySize = 1024

// sent is one packet as sent: its transport-wide sequence number, when
// (µs on the estimator's clock, wrapping every 71 minutes: only
// differences of nearby packets are used) and its size on the wire.
type sent struct {
	at   uint32
	size uint16
	seq  uint16
	used bool // a slot not yet written, or already acknowledged
}

// history is the ring of the last historySize packets sent.
type history [historySize]sent

func (h *history) add(seq uint16, at uint32, size int) {
	h[seq%historySize] = sent{at: at, size: uint16(min(size, 0xffff)), seq: seq, used: true}
}

// take returns the packet with this sequence number once: a duplicate
// report, or one about a packet overwritten since, finds nothing.
func (h *history) take(seq uint16) (sent, bool) {
	s := &h[seq%historySize]
	if !s.used || s.seq != seq {
		return sent{}, false
	}
	s.used = false
	return *s, true
}

// micros is t on the estimator's clock.
func micros(start, t time.Time) uint32 { return uint32(t.Sub(start).Microseconds()) }
