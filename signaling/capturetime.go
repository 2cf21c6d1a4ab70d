package signaling

import (
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// absCaptureTime is the abs-capture-time extension payload for a capture
// time: the NTP timestamp and an estimated capture clock offset of 0 (the
// picture was taken on this machine's clock; browsers report
// senderCaptureTimeOffset only when it is there).
func absCaptureTime(t time.Time) []byte {
	b, err := rtp.NewAbsCaptureTimeExtensionWithCaptureClockOffset(t, 0).Marshal()
	if err != nil {
		return nil
	}
	return b
}

// extensionID is the id the viewer negotiated for a header extension
// (0: not negotiated, or no sender).
func extensionID(sender *webrtc.RTPSender, uri string) uint8 {
	if sender == nil {
		return 0
	}
	for _, e := range sender.GetParameters().HeaderExtensions {
		if e.URI == uri {
			return uint8(e.ID) //nolint:gosec // 1-255 by the SDP grammar pion checked
		}
	}
	return 0
}

// setExtension puts a header extension on a header whose Extensions are
// this viewer's own (never the shared packet's): one-byte form for ids
// 1-14, two-byte above (extmap-allow-mixed).
func setExtension(h *rtp.Header, id uint8, payload []byte) error {
	profile := uint16(rtp.ExtensionProfileOneByte)
	if id > 14 {
		profile = rtp.ExtensionProfileTwoByte
	}
	return h.SetExtensionWithProfile(id, payload, profile)
}
