package signaling

import (
	"github.com/pion/rtcp"
)

// readRTCP reads the viewer's RTCP until the sender stops. PLI and FIR ask
// the source for a keyframe (the source rate-limits them). Reading also
// lets the interceptors (NACK responder, reports) see every packet.
func (ss *session) readRTCP() {
	for {
		pkts, _, err := ss.sender.ReadRTCP()
		if err != nil {
			return // sender stopped: the peer connection is closing
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				ss.keyRequests.Add(1)
				ss.log.Debug("keyframe requested by viewer", "rtcp", rtcpName(p))
				ss.srv.opts.Source.RequestKeyframe()
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
