package signaling

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/pipcam/pipcam/internal/viewer"
)

// A packet a viewer reports lost comes again, the very same packet: its
// sequence number, payload and header extensions (with congestion control
// on, its transport-wide number too: SRTP encrypts it under the same index
// again, and with AES-GCM a different packet under a used index would give
// away the authentication key). With congestion control off and on. The viewer really received it first, so its SRTP replay check
// is off: a browser would only NACK what never came.
func TestNACKIsAnswered(t *testing.T) {
	onBothChains(t, func(t *testing.T, base string) {
		var (
			mu      sync.Mutex
			seen    = map[uint16][][]byte{} // payloads by sequence number
			headers = map[uint16][][]byte{} // marshalled headers
			order   []uint16
		)
		v := dialWatch(t, base, viewer.Options{
			SettingEngine: func(se *webrtc.SettingEngine) { se.DisableSRTPReplayProtection(true) },
			OnRTP: func(p *rtp.Packet) {
				mu.Lock()
				defer mu.Unlock()
				if len(seen[p.SequenceNumber]) == 0 {
					order = append(order, p.SequenceNumber)
				}
				seen[p.SequenceNumber] = append(seen[p.SequenceNumber], bytes.Clone(p.Payload))
				h, err := p.Header.Marshal()
				if err != nil {
					t.Error(err)
				}
				headers[p.SequenceNumber] = append(headers[p.SequenceNumber], h)
			},
		})
		waitFor(t, 10*time.Second, "30 packets", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(order) >= 30
		})
		mu.Lock()
		lost := []uint16{order[len(order)-10], order[len(order)-3]}
		mu.Unlock()
		if err := v.SendNACK(lost...); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "the NACKed packets again", func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, seq := range lost {
				if len(seen[seq]) < 2 {
					return false
				}
			}
			return true
		})
		mu.Lock()
		defer mu.Unlock()
		for _, seq := range lost {
			if !bytes.Equal(seen[seq][0], seen[seq][1]) {
				t.Errorf("packet %d came again with another payload (%d bytes, was %d)", seq, len(seen[seq][1]), len(seen[seq][0]))
			}
			if !bytes.Equal(headers[seq][0], headers[seq][1]) {
				t.Errorf("packet %d came again with another header: %x, was %x", seq, headers[seq][1], headers[seq][0])
			}
		}
	})
}

// A keyframe reported lost whole comes again whole, at once, with
// congestion control on: the retransmission budget holds at least the
// largest recent frame, though a keyframe at 400 kbit/s is larger than
// the budget's half second.
func TestALostKeyframeComesAgainWhole(t *testing.T) {
	checkLeaks(t)
	_, base := adaptiveServer(t, newReplaySource(t), &encoderKnobs{})
	var (
		mu    sync.Mutex
		byTS  = map[uint32][]uint16{} // an AU's sequence numbers
		count = map[uint16]int{}      // times each packet came
		whole []uint16                // the largest AU complete so far
	)
	v := dialWatch(t, base, viewer.Options{
		SettingEngine: func(se *webrtc.SettingEngine) { se.DisableSRTPReplayProtection(true) },
		OnRTP: func(p *rtp.Packet) {
			mu.Lock()
			defer mu.Unlock()
			count[p.SequenceNumber]++
			if count[p.SequenceNumber] > 1 {
				return
			}
			au := append(byTS[p.Timestamp], p.SequenceNumber)
			byTS[p.Timestamp] = au
			if p.Marker && len(au) > len(whole) {
				whole = au
			}
		},
	})
	// Half a second's share at 400 kbit/s, in full-size packets.
	share := 0.5 * 0.25 * 400_000 / 8 / rtpMTU
	waitFor(t, 10*time.Second, "a keyframe larger than half a second's share", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return float64(len(whole)) > share+2
	})
	mu.Lock()
	lost := append([]uint16(nil), whole...)
	mu.Unlock()
	if err := v.SendNACK(lost...); err != nil {
		t.Fatal(err)
	}
	// One round: a lost answer would be asked for again only after a
	// round trip, and nothing is asked again here.
	waitFor(t, 3*time.Second, fmt.Sprintf("all %d packets of the keyframe again", len(lost)), func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, seq := range lost {
			if count[seq] < 2 {
				return false
			}
		}
		return true
	})
}
