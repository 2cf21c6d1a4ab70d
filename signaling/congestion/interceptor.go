package congestion

import (
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
)

// Interceptor numbers every RTP packet of one peer with the transport-wide
// sequence number extension and tells the Estimator what was sent; it
// drops the retransmissions the Estimator refuses. Register it first, so
// that it sees each packet last, retransmissions from the NACK responder
// included.
type Interceptor struct {
	interceptor.NoOp
	est *Estimator
}

// NewInterceptor feeds est.
func NewInterceptor(est *Estimator) *Interceptor { return &Interceptor{est: est} }

// BindLocalStream numbers the stream's packets if the viewer negotiated
// the extension; otherwise it leaves them alone (no feedback will come).
func (i *Interceptor) BindLocalStream(info *interceptor.StreamInfo, writer interceptor.RTPWriter) interceptor.RTPWriter {
	var id uint8
	for _, e := range info.RTPHeaderExtensions {
		if e.URI == sdp.TransportCCURI {
			id = uint8(e.ID)
		}
	}
	if id == 0 {
		return writer
	}
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		seq, ok := i.est.Send(h.SequenceNumber, len(payload)+PacketOverhead, time.Now())
		if !ok {
			return 0, nil // a retransmission over the budget: as if lost on the way
		}
		if err := h.SetExtension(id, []byte{byte(seq >> 8), byte(seq)}); err != nil {
			return 0, err
		}
		return writer.Write(h, payload, a)
	})
}

// Factory hands pion's registry the one Interceptor made for a peer.
type Factory struct{ I *Interceptor }

// NewInterceptor returns the peer's Interceptor.
func (f Factory) NewInterceptor(string) (interceptor.Interceptor, error) { return f.I, nil }
