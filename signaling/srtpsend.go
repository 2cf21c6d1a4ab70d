package signaling

import (
	"errors"
	"net/netip"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// A viewer's RTP encrypted and queued at the ICE socket.
//
// Through pion, each packet to each viewer passed the track, the SRTP
// session (a buffer from a pool, its lock), the DTLS/SRTP demux endpoint,
// the ICE connection, the selected candidate and the UDP mux before it
// reached the socket's batch. For a viewer on a UDP pair whose keys are
// known (feedbacktap.go: pipcam was the DTLS server), the sender encrypts
// the packet with pipcam's own SRTP write keys and queues it on the batch
// itself. pion still does the rest: ICE, DTLS, RTCP, and every viewer on
// ICE-TCP or whose keys are not known.
//
// The choice is made before the first packet and kept: two SRTP contexts
// must never encrypt under one index, and the receiver's rollover counter
// must match the sender's. A pair that turns from UDP to TCP (only when
// the UDP one fails) hands the viewer back to pion's SRTP, whose counter
// starts at 0: right while pipcam's has not rolled over (the first wrap of
// the random initial sequence number, within about 26 minutes at 40
// packets a second); after, the session ends and the viewer reconnects.

// srtpOut writes one viewer's packets.
type srtpOut struct {
	ctx  *srtp.Context // pipcam's write keys for this viewer
	conn *batchConn
	to   netip.AddrPort
	pt   uint8 // the negotiated payload type (pion's track sets it otherwise)
	buf  []byte
	hdr  rtp.Header // EncryptRTP's parse, reused
}

// srtpOverhead is the most SRTP adds to a packet (the authentication tag).
const srtpOverhead = 16

func newSRTPOut(ctx *srtp.Context, conn *batchConn, to netip.AddrPort, pt uint8) *srtpOut {
	return &srtpOut{ctx: ctx, conn: conn, to: to, pt: pt, buf: make([]byte, rtpMTU+64+srtpOverhead)}
}

// write encrypts p in place in the buffer and queues it for the viewer
// (the batch copies it).
func (o *srtpOut) write(p *rtp.Packet) error {
	p.PayloadType = o.pt
	n, err := p.MarshalTo(o.buf)
	if err != nil {
		return err
	}
	enc, err := o.ctx.EncryptRTP(o.buf, o.buf[:n], &o.hdr)
	if err != nil {
		return err
	}
	_, err = o.conn.WriteToAddrPort(enc, o.to)
	return err
}

// rolledOver says whether pipcam's counter for ssrc left 0.
func (o *srtpOut) rolledOver(ssrc uint32) bool {
	roc, _ := o.ctx.ROC(ssrc)
	return roc != 0
}

var errRolledOver = errors.New("the pair turned to ICE-TCP after the SRTP rollover counter left 0: pion cannot carry on the viewer's encryption")

// retarget points the viewer's packets at addr, its new UDP pair; an
// invalid addr (a TCP pair, or none) hands them back to pion, which fails
// after a rollover (see above).
func (s *rtpSender) retarget(addr netip.AddrPort) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out == nil {
		return nil
	}
	if addr.IsValid() {
		s.out.to = addr
		return nil
	}
	rolled := s.out.rolledOver(s.ssrc)
	s.out = nil
	if rolled {
		return errRolledOver
	}
	return nil
}

// atSocket says whether the viewer's packets are encrypted and queued here.
func (s *rtpSender) atSocket() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out != nil
}
