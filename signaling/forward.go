package signaling

import (
	"time"

	"github.com/pion/rtp"
)

// slowViewerLogEvery: a viewer that keeps dropping is logged at most this
// often.
const slowViewerLogEvery = 10 * time.Second

// startForwarding subscribes the viewer to the fan-out and asks the source
// for a keyframe so the picture starts at the next frame.
func (ss *session) startForwarding() {
	sub := ss.srv.fan.add(ss.srv.opts.QueueAUs)
	ss.mu.Lock()
	ss.sub = sub
	ss.mu.Unlock()
	if !ss.spawn(func() { ss.forward(sub) }) {
		ss.srv.fan.remove(sub)
		return
	}
	ss.srv.opts.Source.RequestKeyframe()
	ss.log.Info("viewer connected", "since_created", time.Since(ss.created).Round(time.Millisecond))
}

// forward writes the fan-out's packets to this viewer's track; to a
// viewer on keyframes only it spreads them at its budget. The packet
// structs are shared: each is copied (header by value, payload shared)
// before WriteRTP sets this peer's SSRC and payload type on it, and its
// header extensions (capture time here, the transport-wide sequence number
// in the interceptors) go into a slice of this viewer's own. Sequence
// numbers are rewritten so that the AUs this viewer skipped leave no gap.
func (ss *session) forward(sub *subscriber) {
	var (
		started bool
		offset  uint16 // shared sequence - this viewer's sequence
		nextOut uint16
		lastIn  uint16
		errs    int
		drops   uint64
		// One packet struct per viewer, reused: WriteRTP retains nothing
		// (the NACK responder keeps its own copy), so no allocation per packet.
		cp    rtp.Packet
		exts  = make([]rtp.Extension, 0, 2)
		pacer *time.Timer // made for a keyframes-only viewer
	)
	captureID := extensionID(ss.sender, absCaptureTimeURI)
	for {
		select {
		case <-ss.done:
			return
		case b := <-sub.ch:
			first := b.pkts[0].SequenceNumber
			if !started || first != lastIn+1 {
				if started {
					if d := sub.drops.Load(); d != drops { // not a keyframes-only skip
						drops = d
						ss.noteSkip(sub)
					}
				} else {
					nextOut = first
					started = true
				}
				offset = first - nextOut
			}
			// An ICE-TCP write may block, and a keyframes-only viewer
			// spreads its packets out: neither may hold the others' batch
			// (batchsend.go), so they leave it at once.
			released := ss.onTCP() || sub.gate.keyOnly()
			if released {
				b.writes.release(1)
			}
			for i, p := range b.pkts {
				cp = *p
				cp.Extensions = exts[:0]
				cp.SequenceNumber = p.SequenceNumber - offset
				if i == 0 && captureID != 0 && b.capture != nil {
					if err := setCaptureTime(&cp.Header, captureID, b.capture); err != nil {
						errs++
					}
				}
				if err := ss.track.WriteRTP(&cp); err != nil {
					errs++
					if errs == 1 {
						ss.log.Debug("write RTP", "err", err)
					}
				} else {
					ss.packetsSent.Add(1)
					ss.bytesSent.Add(uint64(rtpHeaderLen + len(p.Payload)))
				}
				nextOut = cp.SequenceNumber + 1
				lastIn = p.SequenceNumber
				if d := sub.gate.pace(rtpHeaderLen + len(p.Payload)); d > 0 {
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
						return
					case <-pacer.C:
					}
				}
			}
			if !released {
				b.writes.release(1)
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
