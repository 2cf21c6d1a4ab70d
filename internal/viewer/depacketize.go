package viewer

import (
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/pipcam/pipcam/media"
)

// assembler groups depacketized H.264 into access units: one AU per RTP
// timestamp, complete at the marker bit (or when the timestamp changes).
// A sequence gap drops the AU in progress.
type assembler struct {
	depack  codecs.H264Packet
	buf     []byte
	ts      uint32
	have    bool
	lastSeq uint16
	seqOK   bool
	broken  bool
	capture time.Time
}

// push consumes one packet (with its capture time, zero if it carries
// none) and returns the AUs it completed (0, 1 or 2).
func (a *assembler) push(p *rtp.Packet, now, capture time.Time, gap func()) []AU {
	var out []AU
	if a.seqOK && p.SequenceNumber != a.lastSeq+1 {
		gap()
		a.broken = true
		a.depack = codecs.H264Packet{}
	}
	a.lastSeq, a.seqOK = p.SequenceNumber, true

	if a.have && p.Timestamp != a.ts {
		// The previous AU lost its marker packet: emit what we have.
		if au, ok := a.flush(now); ok {
			out = append(out, au)
		}
	}
	if !a.have {
		a.ts, a.have = p.Timestamp, true
	}
	if !capture.IsZero() {
		a.capture = capture
	}
	nal, err := a.depack.Unmarshal(p.Payload)
	if err != nil {
		a.broken = true
	} else {
		a.buf = append(a.buf, nal...)
	}
	if p.Marker {
		if au, ok := a.flush(now); ok {
			out = append(out, au)
		}
	}
	return out
}

func (a *assembler) flush(now time.Time) (AU, bool) {
	defer func() {
		a.buf = nil
		a.have = false
		a.broken = false
		a.capture = time.Time{}
	}()
	if a.broken || len(a.buf) == 0 {
		return AU{}, false
	}
	data := a.buf
	return AU{
		Data:         data,
		RTPTimestamp: a.ts,
		Arrival:      now,
		Keyframe:     isKeyframe(data),
		Decodable:    media.IsDecodableStart(data),
		Capture:      a.capture,
	}, true
}

// readVideo reads RTP until the track ends (peer closed). captureID is the
// abs-capture-time extension's id (0: not negotiated).
func (v *Viewer) readVideo(tr *webrtc.TrackRemote, captureID uint8) {
	var a assembler
	for {
		p, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		v.packets.Add(1)
		v.bytes.Add(uint64(len(p.Payload)))
		for _, au := range a.push(p, time.Now(), captureTime(p, captureID), func() { v.gaps.Add(1) }) {
			v.deliver(au)
		}
	}
}
