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

// A packet a viewer reports lost comes again, with its sequence number
// and payload, with congestion control off and on (the interceptor chains
// differ). The viewer really received it first, so its SRTP replay check
// is off: a browser would only NACK what never came.
func TestNACKIsAnswered(t *testing.T) {
	for _, adaptive := range []bool{false, true} {
		name := "plain"
		if adaptive {
			name = "adaptive"
		}
		t.Run(name, func(t *testing.T) {
			checkLeaks(t)
			src := newReplaySource(t)
			var base string
			if adaptive {
				_, base = adaptiveServer(t, src, &encoderKnobs{})
			} else {
				_, hs := startServer(t, src, nil)
				base = hs.URL
			}
			var (
				mu    sync.Mutex
				seen  = map[uint16][][]byte{} // payloads by sequence number
				order []uint16
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
			}
		})
	}
}
