package signaling

import (
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
	for {
		pkts, _, err := ss.sender.ReadRTCP()
		if err != nil {
			return // sender stopped: the peer connection is closing
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

func rtcpName(p rtcp.Packet) string {
	switch p.(type) {
	case *rtcp.PictureLossIndication:
		return "PLI"
	case *rtcp.FullIntraRequest:
		return "FIR"
	}
	return "other"
}
