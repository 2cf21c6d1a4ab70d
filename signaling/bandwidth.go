package signaling

import (
	"sync"
	"time"

	"github.com/pion/rtcp"

	"github.com/pipcam/pipcam/signaling/congestion"
)

// feedbackFresh: an estimate counts only while the viewer's feedback keeps
// coming (browsers send transport-wide feedback about every 100 ms, REMB
// about once a second).
const feedbackFresh = 3 * time.Second

// Estimate sources, as status shows them.
const (
	sourceTWCC = "twcc" // package congestion on transport-wide CC feedback
	sourceREMB = "remb" // the viewer's own receiver estimate
)

// bandwidth is what one viewer's link takes, from its congestion feedback:
// the congestion estimate on transport-wide CC feedback where the viewer
// sends it, the REMB it reports otherwise (both: the lower). It knows
// nothing of sockets: the RTCP reader hands it packets, and the estimator
// learns what was sent from the viewer's RTP sender (rtpsend.go).
type bandwidth struct {
	mu      sync.Mutex
	est     *congestion.Estimator // nil without congestion control
	twccAt  time.Time             // last transport-wide feedback
	remb    float32               // bit/s
	rembAt  time.Time
	packets uint64 // feedback packets seen
}

// feedback notes one RTCP packet from the viewer.
func (b *bandwidth) feedback(p rtcp.Packet, now time.Time) {
	switch p := p.(type) {
	case *rtcp.TransportLayerCC:
		if b.est != nil {
			b.est.FeedbackRTCP(p, now) // its own lock: b.mu is not held
		}
		b.noteTransportFeedback(now)
	case *rtcp.ReceiverEstimatedMaximumBitrate:
		b.mu.Lock()
		b.remb, b.rembAt = p.Bitrate, now
		b.packets++
		b.mu.Unlock()
	}
}

// transportFeedback notes a transport-wide feedback packet read at the
// socket (feedbacktap.go).
func (b *bandwidth) transportFeedback(f *congestion.Feedback, now time.Time) {
	if b.est != nil {
		b.est.Feedback(f, now)
	}
	b.noteTransportFeedback(now)
}

func (b *bandwidth) noteTransportFeedback(now time.Time) {
	b.mu.Lock()
	b.twccAt = now
	b.packets++
	b.mu.Unlock()
}

// estimate is the viewer's current estimate in bit/s and where it comes
// from; 0 and "" while it sends no (fresh) feedback.
func (b *bandwidth) estimate(now time.Time) (bps int, source string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.est != nil && !b.twccAt.IsZero() && now.Sub(b.twccAt) < feedbackFresh {
		bps, source = b.est.Target(), sourceTWCC
	}
	if !b.rembAt.IsZero() && now.Sub(b.rembAt) < feedbackFresh {
		if r := int(b.remb); source == "" || r < bps {
			bps, source = r, sourceREMB
		}
	}
	return bps, source
}
