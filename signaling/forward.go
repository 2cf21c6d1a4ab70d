package signaling

import (
	"time"
)

// slowViewerLogEvery: a viewer that keeps dropping is logged at most this
// often.
const slowViewerLogEvery = 10 * time.Second

// startForwarding subscribes the viewer to the fan-out and asks the source
// for a keyframe so the picture starts at the next frame.
func (ss *session) startForwarding() {
	// Under tapMu: a pair change must find the writer it made, or come
	// before it (feedbacktap.go).
	ss.tapMu.Lock()
	w := newViewerWriter(ss)
	sub := ss.srv.fan.add(ss.srv.opts.QueueAUs, w)
	ss.mu.Lock()
	ss.sub = sub
	ss.mu.Unlock()
	ss.tapMu.Unlock()
	if !ss.spawn(func() { ss.forward(sub) }) {
		ss.srv.fan.remove(sub)
		return
	}
	ss.spawn(func() { ss.sendReports(w.tx) })
	ss.srv.opts.Source.RequestKeyframe()
	ss.log.Info("viewer connected", "since_created", time.Since(ss.created).Round(time.Millisecond))
}

// viewerWriter writes access units to one viewer. Most of the time the
// fan-out calls it inline, for every viewer in turn, from the one
// goroutine that publishes (fanout.publish): one goroutine instead of one
// woken per viewer per frame. A viewer it must not hold up (ICE-TCP, whose
// write may block; keyframes only, spread over time; one still behind on
// its queue) is written by its forward goroutine instead. The two never
// overlap: the fan-out writes inline only while nothing is queued or being
// written (subscriber.pending), so the state below has one owner at a time.
//
// The packet structs are shared: the sender (rtpsend.go) copies each one
// before setting this viewer's sequence number, SSRC and header
// extensions. Sequence numbers are rewritten so that the AUs this viewer
// skipped leave no gap.
type viewerWriter struct {
	ss *session
	tx *rtpSender

	started bool
	offset  uint16 // shared sequence - this viewer's sequence
	nextOut uint16
	lastIn  uint16
	drops   uint64
}

func newViewerWriter(ss *session) *viewerWriter {
	return &viewerWriter{ss: ss, tx: newRTPSender(ss)}
}

// inline says whether the fan-out may write to this viewer from its own
// goroutine: SRTP running (until a first write succeeded, a write may wait
// for it to start, so that one is left to forward), a UDP path (the shared
// socket never blocks) and the whole stream, not keyframes spread out.
func (w *viewerWriter) inline(sub *subscriber) bool {
	return w.ss.packetsSent.Load() > 0 && !w.ss.onTCP() && !sub.gate.keyOnly()
}

// writeAU writes b's packets; after each, wait (if set) may hold the next
// one back, and returning false stops the AU (the session is ending).
func (w *viewerWriter) writeAU(sub *subscriber, b *auPackets, wait func(size int) bool) {
	first := b.pkts[0].SequenceNumber
	if !w.started || first != w.lastIn+1 {
		if w.started {
			if d := sub.drops.Load(); d != w.drops { // not a keyframes-only skip
				w.drops = d
				w.ss.noteSkip(sub)
			}
		} else {
			w.nextOut = first
			w.started = true
		}
		w.offset = first - w.nextOut
	}
	now := time.Now()
	for i, p := range b.pkts {
		var capture []byte
		if i == len(b.pkts)-1 {
			// On the last, the one packet of a frame that may be shorter:
			// the others keep one size, so the frame leaves as one GSO
			// message (udpgso_linux.go). Receivers take it from any packet.
			capture = b.capture
		}
		seq := p.SequenceNumber - w.offset
		w.tx.send(p, seq, capture, now)
		w.nextOut = seq + 1
		w.lastIn = p.SequenceNumber
		if wait != nil && !wait(rtpHeaderLen+len(p.Payload)) {
			return
		}
		if wait != nil {
			now = time.Now() // paced: the packets leave apart
		}
	}
}

// forward writes the AUs the fan-out queued for this viewer (see
// viewerWriter); to a viewer on keyframes only it spreads them at its
// budget.
func (ss *session) forward(sub *subscriber) {
	var pacer *time.Timer // made for a keyframes-only viewer
	for {
		select {
		case <-ss.done:
			return
		case b := <-sub.ch:
			// An ICE-TCP write may block, and a keyframes-only viewer
			// spreads its packets out: neither may hold the others' batch
			// (batchsend.go), so they leave it at once.
			released := ss.onTCP() || sub.gate.keyOnly()
			if released {
				b.writes.release(1)
			}
			stopped := false
			sub.w.writeAU(sub, b, func(size int) bool {
				d := sub.gate.pace(size)
				if d <= 0 {
					return true
				}
				if !released { // spread out: not part of the AU's batch
					released = true
					b.writes.release(1)
				}
				if pacer == nil {
					pacer = time.NewTimer(d)
				} else {
					pacer.Reset(d)
				}
				select {
				case <-ss.done:
					stopped = true
					return false
				case <-pacer.C:
					return true
				}
			})
			if !released {
				b.writes.release(1)
			}
			sub.pending.Add(-1)
			if stopped {
				return
			}
		}
	}
}

// noteSkip logs a viewer that lost access units because its queue was
// full, at most once per slowViewerLogEvery.
func (ss *session) noteSkip(sub *subscriber) {
	if ok, _ := ss.slow.allow(time.Now()); ok {
		ss.log.Warn("viewer too slow: dropping frames until the next keyframe",
			"dropped_total", sub.drops.Load(), "next_log_in_at_least", slowViewerLogEvery)
	}
}
