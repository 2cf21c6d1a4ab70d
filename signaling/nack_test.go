package signaling

import (
	"bytes"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/pipcam/pipcam/internal/viewer"
)

// A packet a viewer reports lost comes again, with its sequence number
// and payload, with congestion control off and on (the interceptor chains
// differ). The viewer really received it first, so its SRTP replay check
// is off: a browser would only NACK what never came.
func TestNACKIsAnswered(t *testing.T) {
	onBothChains(t, func(t *testing.T, base string) {
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

// The chain below the responder gets one attributes map per stream,
// emptied for each packet, instead of a new one per packet; a map the
// caller passes goes through as it is.
func TestHeaderCopierReusesOneAttributesMap(t *testing.T) {
	f, err := newSharedPayloadResponder(nackHistory)
	if err != nil {
		t.Fatal(err)
	}
	i, err := f.NewInterceptor("")
	if err != nil {
		t.Fatal(err)
	}
	defer i.Close()
	var seen []interceptor.Attributes
	w := i.BindLocalStream(&interceptor.StreamInfo{SSRC: 1, RTCPFeedback: []interceptor.RTCPFeedback{{Type: "nack"}}},
		interceptor.RTPWriterFunc(func(_ *rtp.Header, _ []byte, a interceptor.Attributes) (int, error) {
			if a["mark"] != nil {
				t.Error("the map still holds the previous packet's attribute")
			}
			a["mark"] = true // as the congestion controller notes its sequence number
			seen = append(seen, a)
			return 0, nil
		}))
	for seq := range uint16(3) {
		if _, err := w.Write(&rtp.Header{SequenceNumber: seq}, []byte{1}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != 3 || reflect.ValueOf(seen[0]).UnsafePointer() != reflect.ValueOf(seen[2]).UnsafePointer() {
		t.Errorf("the writes got %d maps, not one reused", len(seen))
	}
	own := interceptor.Attributes{}
	if _, err := w.Write(&rtp.Header{SequenceNumber: 3}, []byte{1}, own); err != nil {
		t.Fatal(err)
	}
	if own["mark"] == nil {
		t.Error("a map the caller passed was replaced")
	}
}
