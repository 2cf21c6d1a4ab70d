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
// must not turn everybody's stream into keyframes. Congestion feedback
// goes to the viewer's bandwidth estimate. Reading also lets the
// interceptors (congestion control, NACK responder, reports) see every
// packet.
func (ss *session) readRTCP() {
	// One buffer for the session's life (ReadRTCP makes one per packet),
	// and the packets as the interceptors already parsed them.
	buf := make([]byte, rtcpReadBuffer)
	for {
		n, attrs, err := ss.sender.Read(buf)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) {
			return // sender stopped: the peer connection is closing
		}
		if err != nil {
			// An interceptor could not parse the packet (pion's NACK
			// responder returns its parse error from Read). Only this
			// packet is lost; returning would end the viewer's NACK,
			// PLI and congestion feedback for good, since this loop is
			// what drives the interceptors. Anything else that fails
			// here fails again at once: don't spin on it.
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
			continue // malformed: the interceptors skipped it too
		}
		now := time.Now()
		for _, p := range pkts {
			switch p.(type) {
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
