package viewer

import (
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/pipcam/pipcam/media"
)

const (
	// jitterSlots bounds the packets held while a hole waits for its
	// retransmission (a power of two; over 4 s at 400 kbit/s).
	jitterSlots = 512
	// jitterWait is how long a hole may wait for its retransmission (a
	// NACK round trip through a deep queue) before its AU is given up,
	// as a browser's jitter buffer would.
	jitterWait = 600 * time.Millisecond
)

// jitter reorders packets and waits for retransmissions like a browser's
// jitter buffer: an AU is complete when every packet from the one after
// the previous AU's marker up to its own marker is there, whatever order
// they came in. A hole that is not filled within jitterWait loses its AU.
type jitter struct {
	slots   [jitterSlots]*rtp.Packet // by sequence number modulo jitterSlots
	next    uint16                   // first sequence number of the AU being built
	newest  uint16
	started bool
	resync  bool      // next may be mid-AU: drop up to the next marker
	holeAt  time.Time // when the current hole was first waited on
}

// seqBefore reports whether a comes before b in RTP sequence order.
func seqBefore(a, b uint16) bool { return int16(a-b) < 0 }

// push takes one packet and returns the AUs it completed, in order, and
// how many AUs were given up.
func (j *jitter) push(p *rtp.Packet, now time.Time) (aus [][]*rtp.Packet, lost int) {
	seq := p.SequenceNumber
	if !j.started {
		// The server starts each viewer at the first packet of a keyframe.
		j.next, j.newest, j.started = seq, seq, true
	}
	if seqBefore(seq, j.next) {
		return nil, 0 // late duplicate of what was already delivered or given up
	}
	if uint16(seq-j.next) >= jitterSlots {
		// Far ahead of a hole that never filled: start over from here,
		// at the next AU boundary that arrives.
		lost++
		j.reset(seq)
	}
	j.slots[seq%jitterSlots] = p
	if seqBefore(j.newest, seq) {
		j.newest = seq
	}
	for {
		au, complete := j.collect()
		if complete && j.resync {
			j.resync = false // the tail of an AU whose start was given up
			continue
		}
		if complete {
			aus = append(aus, au)
			continue
		}
		if !seqBefore(j.next+uint16(len(au)), j.newest+1) {
			return aus, lost // nothing waiting behind a hole
		}
		// A whole keyframe behind the hole makes what is before it
		// worthless: a decoder jumps to it, as a browser's does.
		if n := j.jumpToKeyframe(); n > 0 {
			lost += n
			j.resync = false
			continue
		}
		// A hole with newer packets behind it: wait, then give up.
		if j.holeAt.IsZero() {
			j.holeAt = now
		}
		if now.Sub(j.holeAt) < jitterWait || !j.skipAU() {
			return aus, lost
		}
		if !j.resync {
			lost++
		}
		j.resync = false
	}
}

// collect returns the packets of the AU at next. complete: up to and
// including its marker, which advances next; otherwise what is there
// before the first hole (nil: nothing at next).
func (j *jitter) collect() (au []*rtp.Packet, complete bool) {
	for s := j.next; ; s++ {
		p := j.slots[s%jitterSlots]
		if p == nil || p.SequenceNumber != s {
			return au, false
		}
		au = append(au, p)
		if p.Marker {
			j.release(j.next, s+1)
			j.next, j.holeAt = s+1, time.Time{}
			return au, true
		}
		if len(au) == jitterSlots {
			return au, false
		}
	}
}

// jumpToKeyframe moves next to the first complete keyframe AU after it,
// if there is one, and returns how many AUs that gave up (0: none found).
// A keyframe AU starts with SPS (pipcam sends it in a STAP-A), which can
// only open an AU, or with an IDR slice right after a marker.
func (j *jitter) jumpToKeyframe() int {
	markers := 0
	prevMarker := false
	for s := j.next; seqBefore(s, j.newest); s++ {
		p := j.slots[s%jitterSlots]
		if p == nil || p.SequenceNumber != s {
			prevMarker = false
			continue
		}
		opens := spsFirst(p.Payload) || prevMarker && keyframeStart(p.Payload)
		if s != j.next && opens && j.completeFrom(s) {
			j.release(j.next, s)
			j.next, j.holeAt = s, time.Time{}
			return max(markers, 1)
		}
		if p.Marker {
			markers++
		}
		prevMarker = p.Marker
	}
	return 0
}

// completeFrom reports whether every packet from s up to a marker is there.
func (j *jitter) completeFrom(s uint16) bool {
	for ; seqBefore(s, j.newest+1); s++ {
		p := j.slots[s%jitterSlots]
		if p == nil || p.SequenceNumber != s {
			return false
		}
		if p.Marker {
			return true
		}
	}
	return false
}

// spsFirst reports whether an RTP payload begins with SPS.
func spsFirst(payload []byte) bool {
	switch {
	case len(payload) > 0 && payload[0]&0x1f == media.NALSPS:
		return true
	case len(payload) > 3 && payload[0]&0x1f == 24: // STAP-A: a 2-byte size, then the first NAL
		return payload[3]&0x1f == media.NALSPS
	}
	return false
}

// keyframeStart reports whether an RTP payload starts an IDR access unit:
// SPS first (alone or in a STAP-A, as pipcam sends it) or an IDR slice
// (whole, or the first fragment of an FU-A).
func keyframeStart(payload []byte) bool {
	if len(payload) < 2 {
		return false
	}
	switch payload[0] & 0x1f {
	case media.NALSPS, media.NALIDR:
		return true
	case 24: // STAP-A: a 2-byte size, then the first NAL
		return len(payload) > 3 && payload[3]&0x1f == media.NALSPS
	case 28: // FU-A: start bit and the fragment's NAL type
		return payload[1]&0x80 != 0 && payload[1]&0x1f == media.NALIDR
	}
	return false
}

// skipAU gives up the AU at next: everything up to the first marker
// that is there after it. False when no marker arrived yet.
func (j *jitter) skipAU() bool {
	for s := j.next; seqBefore(s, j.newest+1); s++ {
		if p := j.slots[s%jitterSlots]; p != nil && p.SequenceNumber == s && p.Marker {
			j.release(j.next, s+1)
			j.next, j.holeAt = s+1, time.Time{}
			return true
		}
	}
	return false
}

func (j *jitter) release(from, to uint16) {
	for s := from; s != to; s++ {
		j.slots[s%jitterSlots] = nil
	}
}

// reset forgets everything and starts again at seq, which may be in the
// middle of an AU: what comes up to the next marker is dropped.
func (j *jitter) reset(seq uint16) {
	j.slots = [jitterSlots]*rtp.Packet{}
	j.next, j.newest, j.holeAt, j.resync = seq, seq, time.Time{}, true
}

// assemble depacketizes one complete AU's packets (in order) into Annex B.
func assemble(pkts []*rtp.Packet, captureID uint8, now time.Time) (AU, bool) {
	var depack codecs.H264Packet
	var data []byte
	var capture time.Time
	for _, p := range pkts {
		nal, err := depack.Unmarshal(p.Payload)
		if err != nil {
			return AU{}, false
		}
		data = append(data, nal...)
		if c := captureTime(p, captureID); !c.IsZero() {
			capture = c
		}
	}
	if len(data) == 0 {
		return AU{}, false
	}
	return AU{
		Data:         data,
		RTPTimestamp: pkts[0].Timestamp,
		Arrival:      now,
		Keyframe:     isKeyframe(data),
		Decodable:    media.IsDecodableStart(data),
		Capture:      capture,
	}, true
}

// readVideo reads RTP until the track ends (peer closed). captureID is the
// abs-capture-time extension's id (0: not negotiated). Like a browser it
// asks for a keyframe when an AU is lost for good, and marks the AUs that
// follow as missing a reference until one comes.
func (v *Viewer) readVideo(tr *webrtc.TrackRemote, captureID uint8) {
	var (
		j       jitter
		refLost bool
		lastPLI time.Time
	)
	for {
		p, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		if v.opts.OnRTP != nil {
			v.opts.OnRTP(p)
		}
		now := time.Now()
		v.packets.Add(1)
		v.bytes.Add(uint64(len(p.Payload)))
		aus, lost := j.push(p, now)
		if lost > 0 {
			v.gaps.Add(uint64(lost))
			refLost = true
			if !v.opts.NoPLIOnLoss && !v.opts.Silent && now.Sub(lastPLI) > 500*time.Millisecond {
				lastPLI = now
				_ = v.SendPLI()
			}
		}
		for _, pkts := range aus {
			au, ok := assemble(pkts, captureID, now)
			if !ok {
				v.gaps.Add(1)
				refLost = true
				continue
			}
			if au.Keyframe {
				refLost = false
			}
			au.RefLost = refLost
			v.deliver(au)
		}
	}
}
