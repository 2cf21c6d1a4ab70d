package signaling

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pion/sdp/v3"
)

// checkOffer parses a client's offer and checks that it asks for video with
// H.264, so that bad offers get a clear 400 before a peer is created.
func checkOffer(text string) error {
	if strings.TrimSpace(text) == "" {
		return errors.New("empty SDP")
	}
	var d sdp.SessionDescription
	if err := d.UnmarshalString(text); err != nil {
		return fmt.Errorf("parse SDP: %w", err)
	}
	video := false
	for _, m := range d.MediaDescriptions {
		if m.MediaName.Media != "video" {
			continue
		}
		video = true
		for _, a := range m.Attributes {
			if a.Key != "rtpmap" {
				continue
			}
			// "<pt> H264/90000"
			if _, enc, ok := strings.Cut(a.Value, " "); ok && strings.HasPrefix(strings.ToUpper(enc), "H264/") {
				return nil
			}
		}
	}
	if !video {
		return errors.New("SDP has no video m-line")
	}
	return errors.New("SDP offers no H.264 for video")
}

// videoRecvOnly rewrites a=sendrecv to a=recvonly in the offer's video
// m-sections. Browsers (Mainsail, Fluidd) offer video sendrecv; pion would
// upgrade our sendonly transceiver to sendrecv to match, and the answer
// must say sendonly: pipcam never receives video. Everything else in the
// offer is kept byte for byte.
func videoRecvOnly(offer string) string {
	lines := strings.SplitAfter(offer, "\n")
	video := false
	for i, l := range lines {
		if strings.HasPrefix(l, "m=") {
			video = strings.HasPrefix(l, "m=video ")
			continue
		}
		if video && strings.TrimRight(l, "\r\n") == "a=sendrecv" {
			lines[i] = "a=recvonly" + l[len("a=sendrecv"):]
		}
	}
	return strings.Join(lines, "")
}
