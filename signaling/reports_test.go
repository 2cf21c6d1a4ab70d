package signaling

import (
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/pipcam/pipcam/internal/viewer"
)

// A viewer gets RTCP sender reports for the video it receives (browsers
// use them for RTT and to map RTP time to wall time), with congestion
// control off and on.
func TestViewerGetsSenderReports(t *testing.T) {
	onBothChains(t, func(t *testing.T, base string) {
		var (
			mu      sync.Mutex
			ssrc    uint32
			packets uint32
			reports []rtcp.SenderReport
		)
		dialWatch(t, base, viewer.Options{
			OnRTP: func(p *rtp.Packet) {
				mu.Lock()
				defer mu.Unlock()
				ssrc = p.SSRC
				packets++
			},
			OnRTCP: func(p rtcp.Packet) {
				if sr, ok := p.(*rtcp.SenderReport); ok {
					mu.Lock()
					defer mu.Unlock()
					reports = append(reports, *sr)
				}
			},
		})
		waitFor(t, 10*time.Second, "two sender reports", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(reports) >= 2
		})
		mu.Lock()
		defer mu.Unlock()
		last := reports[len(reports)-1]
		if last.SSRC != ssrc {
			t.Errorf("report for SSRC %d, video is %d", last.SSRC, ssrc)
		}
		if last.PacketCount == 0 || last.OctetCount == 0 || last.PacketCount > packets+100 {
			t.Errorf("report counts %d packets, %d bytes; the viewer has %d packets", last.PacketCount, last.OctetCount, packets)
		}
		// NTP time: seconds since 1900 in the upper 32 bits.
		const unixToNTP = 2208988800
		if d := int64(last.NTPTime>>32) - unixToNTP - time.Now().Unix(); d < -5 || d > 5 {
			t.Errorf("report's wall clock is %d s off", d)
		}
	})
}
