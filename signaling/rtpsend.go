package signaling

import (
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"

	"github.com/pipcam/pipcam/signaling/congestion"
)

// A viewer's RTP sending: the per-packet work pion's interceptors did
// (transport-wide numbering for congestion control, the NACK history,
// the counts sender reports carry), done here, in the writer that already
// touches every packet. pion's chain cost three interceptor calls, a
// header clone and a copy into the NACK buffer per packet per viewer:
// with a crowd, most of what the writes cost the daemon's Go side. The
// packets go to pion's track afterwards, which only encrypts and sends.

// nackHistory is how many sent packets each viewer keeps for NACK
// retransmission: over a second at 400 kbit/s, far longer than a LAN or
// WiFi round trip. An entry refers to the fan-out's packet, whose payload
// every viewer shares. No RTX is offered, so a retransmission is the
// packet again under its own sequence number.
const nackHistory = 64

// senderReportEvery is how often a viewer gets an RTCP sender report
// (pion's interval). Browsers take the round trip and the RTP-to-wall-clock
// mapping from them.
const senderReportEvery = time.Second

// sentPacket is a packet as it went to the viewer: the fan-out's packet
// under this viewer's sequence number, with the header extensions it
// carried. A NACK answer is the very same packet again: SRTP encrypts it
// under the same index, and two different packets under one index would,
// with AES-GCM, give away the authentication key (RFC 7714, section 8).
type sentPacket struct {
	pkt     *rtp.Packet
	capture []byte // abs-capture-time payload (nil: none)
	seq, tw uint16 // tw: transport-wide sequence number (with twccID)
}

// rtpSender is what sending one packet to the viewer touches. AUs (the
// fan-out or the viewer's forward goroutine) and NACK answers (the RTCP
// reader) send from different goroutines, hence the lock.
type rtpSender struct {
	ss        *session
	ssrc      uint32
	captureID uint8 // abs-capture-time's extension ID (0: not negotiated)
	twccID    uint8 // transport-wide sequence number's (0: none)
	est       *congestion.Estimator

	mu  sync.Mutex
	out *srtpOut // nil: through pion's track (srtpsend.go)
	// One packet struct, reused: the track retains nothing, so no
	// allocation per packet. Its extensions go into a slice of its own,
	// never the shared packet's.
	cp      rtp.Packet
	exts    []rtp.Extension
	twcc    [2]byte
	history [nackHistory]sentPacket
	// For sender reports: what was sent, and when the newest timestamp
	// first went out.
	packets, octets uint32
	lastTS          uint32
	lastTSAt        time.Time
	errs            int
	// The AU being sent, on the wire so far (for the estimator's
	// retransmission budget).
	auBytes int
}

// newRTPSender is called with ss.tapMu held.
func newRTPSender(ss *session) *rtpSender {
	s := &rtpSender{
		ss:        ss,
		captureID: extensionID(ss.sender, absCaptureTimeURI),
		exts:      make([]rtp.Extension, 0, 2),
	}
	if ss.bw.est != nil {
		s.est = ss.bw.est
		s.twccID = extensionID(ss.sender, sdp.TransportCCURI)
	}
	var pt uint8
	if ss.sender != nil {
		params := ss.sender.GetParameters()
		if len(params.Encodings) > 0 {
			s.ssrc = uint32(params.Encodings[0].SSRC)
		}
		if len(params.Codecs) > 0 {
			pt = uint8(params.Codecs[0].PayloadType)
		}
	}
	// Under tapMu, as updateTap sets them: the keys and the UDP pair.
	if local, to := ss.localSRTP, ss.tapAddr; local != nil && to.IsValid() && pt != 0 {
		s.out = newSRTPOut(local, ss.srv.ice.batch, to, pt)
	}
	return s
}

// send writes the shared packet p under the viewer's sequence number seq,
// with the capture time if given, and keeps it for NACKs.
func (s *rtpSender) send(p *rtp.Packet, seq uint16, capture []byte, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := sentPacket{pkt: p, seq: seq}
	if s.captureID != 0 {
		e.capture = capture
	}
	if s.twccID != 0 {
		size := len(p.Payload) + congestion.PacketOverhead
		tw, ok := s.est.Send(seq, size, now)
		if !ok {
			return // not for a new packet; as if lost on the way
		}
		e.tw = tw
		s.auBytes += size
		if p.Marker { // the AU's last packet
			s.est.FrameSent(s.auBytes, now)
			s.auBytes = 0
		}
	}
	if s.write(&e) != nil {
		return
	}
	s.history[seq%nackHistory] = e
	if s.packets == 1 || p.Timestamp != s.lastTS {
		s.lastTS, s.lastTSAt = p.Timestamp, now
	}
}

// answerNACK sends again what the viewer reports lost and the history
// still holds; congestion control may hold some back.
func (s *rtpSender) answerNACK(n *rtcp.TransportLayerNack, now time.Time) (resent, refused int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range n.Nacks {
		n.Nacks[i].Range(func(seq uint16) bool {
			e := s.history[seq%nackHistory]
			if e.pkt == nil || e.seq != seq {
				return true // too old: the viewer waits for the next keyframe
			}
			if s.twccID != 0 && !s.est.Resend(seq, len(e.pkt.Payload)+congestion.PacketOverhead, now) {
				refused++
				return true
			}
			if s.write(&e) == nil {
				resent++
			}
			return true
		})
	}
	return resent, refused
}

// write sends e's packet with its header extensions, and counts it.
func (s *rtpSender) write(e *sentPacket) error {
	s.cp = *e.pkt
	s.cp.Extensions = s.exts[:0]
	s.cp.SequenceNumber = e.seq
	s.cp.SSRC = s.ssrc
	if e.capture != nil {
		if err := setExtension(&s.cp.Header, s.captureID, e.capture); err != nil {
			s.fail(err)
		}
	}
	if s.twccID != 0 {
		s.twcc = [2]byte{byte(e.tw >> 8), byte(e.tw)}
		if err := setExtension(&s.cp.Header, s.twccID, s.twcc[:]); err != nil {
			s.fail(err)
			return err
		}
	}
	var err error
	if s.out != nil {
		err = s.out.write(&s.cp)
	} else {
		err = s.ss.track.WriteRTP(&s.cp)
	}
	if err != nil {
		s.fail(err)
		return err
	}
	s.packets++
	s.octets += uint32(len(e.pkt.Payload)) //nolint:gosec // wraps, as RFC 3550 says it may
	s.ss.packetsSent.Add(1)
	s.ss.bytesSent.Add(uint64(rtpHeaderLen + len(e.pkt.Payload)))
	return nil
}

// fail logs the first error of a viewer's writes (the rest are the same).
func (s *rtpSender) fail(err error) {
	if s.errs++; s.errs == 1 {
		s.ss.log.Debug("write RTP", "err", err)
	}
}

// senderReport is the report for now; nil before the first packet (RFC
// 3550 6.4: a source that sent nothing sends no SR).
func (s *rtpSender) senderReport(now time.Time) *rtcp.SenderReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.packets == 0 {
		return nil
	}
	return &rtcp.SenderReport{
		SSRC:        s.ssrc,
		NTPTime:     ntpTime(now),
		RTPTime:     s.lastTS + uint32(now.Sub(s.lastTSAt).Seconds()*90000),
		PacketCount: s.packets,
		OctetCount:  s.octets,
	}
}

// ntpTime is t as a 64-bit NTP timestamp: seconds since 1900, and the
// fraction in the low 32 bits.
func ntpTime(t time.Time) uint64 {
	const unixToNTP = 2208988800
	secs := uint64(t.Unix() + unixToNTP)       //nolint:gosec // after 1900
	frac := uint64(t.Nanosecond()) << 32 / 1e9 //nolint:gosec // 0 <= ns < 1e9
	return secs<<32 | frac
}

// sendReports sends the viewer a sender report every second, ticked by
// the server's one timer for all viewers (tickhub.go).
func (ss *session) sendReports(s *rtpSender) {
	tk := ss.srv.peers.ticks.newTicker(senderReportEvery)
	defer tk.Stop()
	for {
		select {
		case <-ss.done:
			return
		case <-tk.Ch():
			sr := s.senderReport(time.Now())
			if sr == nil {
				continue
			}
			if err := ss.pc.WriteRTCP([]rtcp.Packet{sr}); err != nil {
				ss.log.Debug("write sender report", "err", err)
			}
		}
	}
}
