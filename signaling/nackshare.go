package signaling

import (
	"fmt"
	"sync"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/rtp"
)

// Every viewer is sent the same payloads: the fan-out's packets of the one
// encode, which nobody changes once they are made. pion's NACK responder
// copies each packet it keeps into a 1,460-byte buffer of its own, per
// viewer: 64 of those were the biggest part of a viewer's heap. This one
// keeps a copy of the header only (WriteRTP hands the chain a pooled
// header that is reused at once) and a reference to the shared payload;
// what to resend, when and how fast is still pion's. No RTX is offered,
// so retransmissions need no payload of their own.

// sharedPayloadResponder is a Factory for pion's responder without its
// payload copies.
type sharedPayloadResponder struct {
	inner *nack.ResponderInterceptorFactory
}

func newSharedPayloadResponder(history uint16) (*sharedPayloadResponder, error) {
	f, err := nack.NewResponderInterceptor(nack.ResponderSize(history), nack.DisableCopy())
	if err != nil {
		return nil, fmt.Errorf("nack responder: %w", err)
	}
	return &sharedPayloadResponder{inner: f}, nil
}

func (f *sharedPayloadResponder) NewInterceptor(id string) (interceptor.Interceptor, error) {
	i, err := f.inner.NewInterceptor(id)
	if err != nil {
		return nil, err
	}
	return &headerCopier{Interceptor: i}, nil
}

// headerCopier gives the responder a header of its own for each packet.
// It also hands the chain one attributes map per stream, emptied for each
// packet: pion passes none, and the congestion controller below then made
// a map per packet per viewer to note the transport-wide sequence number
// in (half of what the crowd allocated). Nothing keeps the map past the
// write (the pacer is pion's no-op one), and one viewer's writes never
// overlap (forward.go); the lock only makes that certain.
type headerCopier struct{ interceptor.Interceptor }

func (h *headerCopier) BindLocalStream(info *interceptor.StreamInfo, writer interceptor.RTPWriter) interceptor.RTPWriter {
	keep := h.Interceptor.BindLocalStream(info, writer)
	var (
		mu    sync.Mutex
		attrs = interceptor.Attributes{}
	)
	return interceptor.RTPWriterFunc(func(header *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		own := header.Clone()
		if a != nil {
			return keep.Write(&own, payload, a)
		}
		mu.Lock()
		defer mu.Unlock()
		clear(attrs)
		return keep.Write(&own, payload, attrs)
	})
}
