package signaling

import (
	"sync"
	"time"

	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/rtcp"
)

// feedbackFresh: an estimate counts only while the viewer's feedback keeps
// coming (browsers send transport-wide feedback about every 100 ms, REMB
// about once a second).
const feedbackFresh = 3 * time.Second

// Estimate sources, as status shows them.
const (
	sourceTWCC = "twcc" // pion's GCC on transport-wide CC feedback
	sourceREMB = "remb" // the viewer's own receiver estimate
)

// bandwidth is what one viewer's link takes, from its congestion feedback:
// GCC on transport-wide CC feedback where the viewer sends it, the REMB
// it reports otherwise (both: the lower). It knows nothing of sockets:
// the RTCP reader hands it packets, the estimator comes from pion's
// interceptor chain.
type bandwidth struct {
	mu      sync.Mutex
	gcc     cc.BandwidthEstimator // nil without congestion control
	twccAt  time.Time             // last transport-wide feedback
	remb    float32               // bit/s
	rembAt  time.Time
	packets uint64 // feedback packets seen
}

func (b *bandwidth) setEstimator(e cc.BandwidthEstimator) {
	b.mu.Lock()
	b.gcc = e
	b.mu.Unlock()
}

// feedback notes one RTCP packet from the viewer.
func (b *bandwidth) feedback(p rtcp.Packet, now time.Time) {
	switch p := p.(type) {
	case *rtcp.TransportLayerCC:
		b.mu.Lock()
		b.twccAt = now
		b.packets++
		b.mu.Unlock()
	case *rtcp.ReceiverEstimatedMaximumBitrate:
		b.mu.Lock()
		b.remb, b.rembAt = p.Bitrate, now
		b.packets++
		b.mu.Unlock()
	}
}

// estimate is the viewer's current estimate in bit/s and where it comes
// from; 0 and "" while it sends no (fresh) feedback.
func (b *bandwidth) estimate(now time.Time) (bps int, source string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.gcc != nil && !b.twccAt.IsZero() && now.Sub(b.twccAt) < feedbackFresh {
		bps, source = b.gcc.GetTargetBitrate(), sourceTWCC
	}
	if !b.rembAt.IsZero() && now.Sub(b.rembAt) < feedbackFresh {
		if r := int(b.remb); source == "" || r < bps {
			bps, source = r, sourceREMB
		}
	}
	return bps, source
}
