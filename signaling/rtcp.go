package signaling

import (
	"errors"
	"io"
	"time"

	"github.com/pion/rtcp"
)

// readRTCP reads the viewer's RTCP until the sender stops. PLI and FIR ask
// the source for a keyframe (the source rate-limits them), unless the
// viewer gets keyframes only: it gets the next one anyway, and its losses
// must not turn everybody's stream into keyframes. A NACK is answered
// from the viewer's history (rtpsend.go). Congestion feedback goes to the
// viewer's bandwidth estimate. A packet that does not parse is skipped
// and counted: only it is lost.
func (ss *session) readRTCP() {
	// One buffer for the session's life (ReadRTCP makes one per packet).
	buf := make([]byte, rtcpReadBuffer)
	for {
		n, attrs, err := ss.sender.Read(buf)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) {
			return // sender stopped: the peer connection is closing
		}
		if err != nil {
			// Not the end, so not the viewer's fault (SRTCP that does
			// not decrypt is dropped below Read): returning would end
			// its NACK, PLI and congestion feedback for good. Whatever
			// failed fails again at once: don't spin on it.
			ss.rtcpErrors.Add(1)
			select {
			case <-ss.done:
				return
			case <-time.After(rtcpErrorPause):
			}
			continue
		}
		pkts, err := attrs.GetRTCPPackets(buf[:n])
		if err != nil {
			ss.rtcpErrors.Add(1)
			continue
		}
		now := time.Now()
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.TransportLayerNack:
				if sub := ss.subscriber(); sub != nil {
					resent, refused := sub.w.tx.answerNACK(p, now)
					ss.resent.Add(uint64(resent))
					ss.resendRefused.Add(uint64(refused))
				}
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				ss.keyRequests.Add(1)
				if sub := ss.subscriber(); sub != nil && sub.gate.keyOnly() {
					continue
				}
				ss.log.Debug("keyframe requested by viewer", "rtcp", rtcpName(p))
				ss.srv.opts.Source.RequestKeyframe()
			default:
				ss.bw.feedback(p, now)
			}
		}
	}
}

// rtcpReadBuffer holds any compound RTCP packet a viewer sends (pion's
// receive MTU).
const rtcpReadBuffer = 1460

// rtcpErrorPause is how long readRTCP waits after a read that failed for
// another reason than the sender stopping.
const rtcpErrorPause = 10 * time.Millisecond

func rtcpName(p rtcp.Packet) string {
	switch p.(type) {
	case *rtcp.PictureLossIndication:
		return "PLI"
	case *rtcp.FullIntraRequest:
		return "FIR"
	}
	return "other"
}
