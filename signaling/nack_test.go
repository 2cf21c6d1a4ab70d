package signaling

import (
	"bytes"
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
