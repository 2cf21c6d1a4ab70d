package signaling

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// maxBatch is the most packets one sendmmsg takes (the kernel's UIO_MAXIOV
// is 1024; more than this many are sent in several calls).
const maxBatch = 256

// batchConn is the ICE port's UDP socket under pion's UDPMux. While an
// access unit is being written to the viewers, the packets every viewer's
// SRTP session hands it are queued, and the last viewer to finish sends
// them all with one sendmmsg: one system call per access unit for the
// whole crowd instead of one per packet per viewer. Any other time (no AU
// in flight: STUN, DTLS, RTCP between frames) a write goes out at once.
// There is no timer: a queue is sent when its AU is done, when it is
// full, or when the next AU starts (a viewer that left mid-AU).
//
// Writes never wait for a viewer: UDP has no per-peer flow control, so a
// viewer that stops reading costs only the packets the network drops.
type batchConn struct {
	*net.UDPConn
	raw  *rawUDP      // rawudp_linux.go
	taps feedbackTaps // feedbacktap.go

	// inFlight is the number of the AU being written (0: none); only the
	// latest AU counts, so one that a viewer never finishes is forgotten
	// when the next starts.
	inFlight atomic.Uint64
	gen      atomic.Uint64

	mu   sync.Mutex
	msgs []outPacket
	bufs [][]byte  // payload storage, reused
	sent sendStats // under mu
}

// outPacket is a datagram queued for a batch.
type outPacket struct {
	buf []byte
	to  netip.AddrPort
}

// sendStats: sendmmsg calls, the messages they carried (a GSO message
// holds several packets), the packets.
type sendStats struct{ calls, messages, packets uint64 }

func newBatchConn(c *net.UDPConn) (*batchConn, error) {
	raw, err := newRawUDP(c)
	if err != nil {
		return nil, err
	}
	return &batchConn{UDPConn: c, raw: raw}, nil
}

// ReadFromAddrPort and WriteToAddrPort are what pion's UDPMux uses when
// the connection has them (a *net.UDPConn wrapped is not recognised).
// A viewer's transport-wide feedback is read here and never returned
// (feedbacktap.go).
func (b *batchConn) ReadFromAddrPort(p []byte) (int, netip.AddrPort, error) {
	for {
		n, from, err := b.raw.recvFrom(p)
		if err != nil || !b.taps.take(p[:n], from) {
			return n, from, err
		}
	}
}

func (b *batchConn) WriteToAddrPort(p []byte, addr netip.AddrPort) (int, error) {
	if b.inFlight.Load() == 0 {
		return b.raw.sendTo(p, addr)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.queue(p, addr)
	// The AU may have finished between the check above and the lock.
	if len(b.msgs) >= maxBatch || b.inFlight.Load() == 0 {
		b.flushLocked()
	}
	return len(p), nil
}

func (b *batchConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if ap, ok := addr.(*net.UDPAddr); ok {
		return b.WriteToAddrPort(p, ap.AddrPort())
	}
	return b.UDPConn.WriteTo(p, addr)
}

// queue copies p (its SRTP buffer is reused as soon as the write returns).
func (b *batchConn) queue(p []byte, addr netip.AddrPort) {
	i := len(b.msgs)
	if i == len(b.bufs) {
		b.bufs = append(b.bufs, make([]byte, 0, rtpMTU+64))
	}
	b.bufs[i] = append(b.bufs[i][:0], p...)
	b.msgs = append(b.msgs, outPacket{buf: b.bufs[i], to: addr})
}

func (b *batchConn) flush() {
	b.mu.Lock()
	b.flushLocked()
	b.mu.Unlock()
}

// flushLocked sends what is queued. A packet the kernel refuses is
// dropped, as a failed sendto would drop it: the queue must not stall.
func (b *batchConn) flushLocked() {
	if len(b.msgs) == 0 {
		return
	}
	calls, msgs, sent := b.raw.sendBatch(b.msgs)
	b.sent.calls += uint64(calls)
	b.sent.messages += uint64(msgs)
	b.sent.packets += uint64(sent)
	b.msgs = b.msgs[:0]
}

// auStarted marks a new AU in flight and returns its number; what an
// earlier AU left queued goes out first.
func (b *batchConn) auStarted() uint64 {
	b.flush()
	g := b.gen.Add(1)
	b.inFlight.Store(g)
	return g
}

// auDone ends AU g's writes and sends the queue, unless a later AU has
// started (its end sends it).
func (b *batchConn) auDone(g uint64) {
	if b.inFlight.CompareAndSwap(g, 0) {
		b.flush()
	}
}

// stats are the sendmmsg calls made and what they sent.
func (b *batchConn) stats() sendStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sent
}

// gso says whether AUs leave as GSO messages, and if not, why.
func (b *batchConn) gso() (on bool, why string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.raw.gso.on {
		return true, ""
	}
	if errno := b.raw.gso.refused; errno != 0 {
		return false, "a route refused it: " + errno.Error()
	}
	return false, "the kernel has no UDP GSO"
}

// auWrites counts the viewers still writing one access unit; the last to
// finish (or the fan-out, for the ones it did not queue to) tells the
// batchConn.
type auWrites struct {
	left atomic.Int32
	conn *batchConn // nil: no batching
	gen  uint64
}

// start counts n writers of a new AU (before any can finish).
func (w *auWrites) start(conn *batchConn, n int) {
	if conn == nil || n <= 0 {
		return
	}
	w.conn = conn
	w.left.Store(int32(n))
	w.gen = conn.auStarted()
}

func (w *auWrites) release(n int) {
	if w.conn != nil && n > 0 && w.left.Add(int32(-n)) == 0 {
		w.conn.auDone(w.gen)
	}
}
