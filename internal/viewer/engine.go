package viewer

import (
	"fmt"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// absCaptureTimeURI carries each picture's capture time from the server.
const absCaptureTimeURI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time"

// browserEngine is a browser-like engine: the default codecs (VP8, VP9,
// H.264 variants, AV1, Opus…) so the server has to pick its H.264 out of
// many; NACK, RTCP reports and, like Chrome, transport-wide congestion
// feedback; and the abs-capture-time extension, which a page can ask
// Chrome for. feedback says which of those RTCP interceptors it has.
func browserEngine(feedback feedbackKind) (*webrtc.MediaEngine, *interceptor.Registry, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, nil, fmt.Errorf("register codecs: %w", err)
	}
	reg := &interceptor.Registry{}
	switch feedback {
	case noFeedback:
	case rembFeedback:
		if err := webrtc.ConfigureNack(me, reg); err != nil {
			return nil, nil, fmt.Errorf("register NACK: %w", err)
		}
		if err := webrtc.ConfigureRTCPReports(reg); err != nil {
			return nil, nil, fmt.Errorf("register RTCP reports: %w", err)
		}
	default:
		if err := webrtc.RegisterDefaultInterceptors(me, reg); err != nil {
			return nil, nil, fmt.Errorf("register interceptors: %w", err)
		}
	}
	if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: absCaptureTimeURI}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, nil, fmt.Errorf("register abs-capture-time: %w", err)
	}
	return me, reg, nil
}

// feedbackKind is what RTCP a viewer sends about the video.
type feedbackKind int

const (
	transportFeedback feedbackKind = iota // NACK, reports, transport-wide feedback: Chrome
	rembFeedback                          // NACK, reports; REMB sent by the viewer itself
	noFeedback                            // nothing (Options.Silent)
)

// headerExtensionID is the negotiated id of a header extension (0: none).
func headerExtensionID(rcv *webrtc.RTPReceiver, uri string) uint8 {
	for _, e := range rcv.GetParameters().HeaderExtensions {
		if e.URI == uri {
			return uint8(e.ID) //nolint:gosec // 1-255 by the SDP grammar
		}
	}
	return 0
}

// captureTime reads a packet's abs-capture-time (zero without one).
func captureTime(p *rtp.Packet, id uint8) time.Time {
	if id == 0 {
		return time.Time{}
	}
	b := p.GetExtension(id)
	if b == nil {
		return time.Time{}
	}
	var e rtp.AbsCaptureTimeExtension
	if err := e.Unmarshal(b); err != nil {
		return time.Time{}
	}
	return e.CaptureTime()
}

// sendREMB reports the receiver's estimate twice a second until Close.
func (v *Viewer) sendREMB(ssrc uint32, bitrate func() float32) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-v.done:
			return
		case <-t.C:
			remb := &rtcp.ReceiverEstimatedMaximumBitrate{Bitrate: bitrate(), SSRCs: []uint32{ssrc}}
			if err := v.pc.WriteRTCP([]rtcp.Packet{remb}); err != nil {
				v.log.Debug("send REMB", "err", err)
			}
		}
	}
}
