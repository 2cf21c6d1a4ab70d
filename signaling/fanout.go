package signaling

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/pipcam/pipcam/media"
)

const (
	rtpMTU       = 1200 // bytes of RTP packet (header + payload)
	rtpHeaderLen = 12
	sourceBuffer = 64 // AUs buffered between the source and the fan-out
)

// auPackets is one access unit packetized once. The packets and their
// payloads are never modified after publish: every viewer reads the same
// slice and copies only the header.
type auPackets struct {
	pkts     []*rtp.Packet
	keyframe bool
	size     int      // bytes of the access unit
	capture  []byte   // abs-capture-time extension payload (nil: unknown)
	writes   auWrites // viewers still writing it (batchsend.go)
}

// subscriber is one viewer's bounded queue. waiting is touched only under
// fanout.mu.
type subscriber struct {
	ch      chan *auPackets
	waiting bool // true until a keyframe was queued
	drops   atomic.Uint64
	gate    keyGate // keyframes only, for a viewer whose link cannot take the stream
	// w writes to the viewer (nil: only through ch); pending counts the
	// AUs queued on ch and not yet written: the fan-out writes inline only
	// at 0, so a viewer's AUs never overtake each other (forward.go).
	w       *viewerWriter
	pending atomic.Int32
}

// fanout subscribes to the source once, for the server's life, measures the
// stream and packetizes each access unit once when anybody is watching.
//
// It stays subscribed with no viewers so that /api/status always shows the
// encode's real bitrate and fps; with nobody watching it only counts bytes.
type fanout struct {
	src VideoSource
	log *slog.Logger

	mu   sync.Mutex
	subs map[*subscriber]struct{}

	// Owned by the goroutine that calls publish.
	pay    codecs.H264Payloader
	seq    uint16
	tsBase uint32

	// tick, if set, is called for each access unit with the number of
	// viewers (bandwidth adaptation's clock). Set before run.
	tick func(now time.Time, viewers int)
	// batch, if set, sends each AU's packets to every viewer in one go.
	// Set before run.
	batch *batchConn
	// inline is the viewers publish writes itself (reused; publish only).
	inline []*subscriber

	meter     meter
	aus       atomic.Uint64
	keyframes atomic.Uint64
	drops     atomic.Uint64
	// AUs handed to viewers: written inline by publish, or queued for a
	// viewer's forward goroutine.
	inlineAUs, queuedAUs atomic.Uint64
}

func newFanout(src VideoSource, log *slog.Logger) *fanout {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &fanout{
		src:    src,
		log:    log,
		subs:   map[*subscriber]struct{}{},
		seq:    binary.BigEndian.Uint16(b[0:2]),
		tsBase: binary.BigEndian.Uint32(b[2:6]),
		meter:  meter{window: 2 * time.Second},
	}
}

// run reads the source until ctx ends.
func (f *fanout) run(ctx context.Context) {
	aus, cancel := f.src.SubscribeBatched(sourceBuffer)
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return
		case au, ok := <-aus:
			if !ok {
				f.log.Warn("video source closed its subscription")
				return
			}
			f.publish(au, time.Now())
		}
	}
}

// add registers a viewer's queue and writer; it starts receiving at the
// next keyframe.
func (f *fanout) add(queue int, w *viewerWriter) *subscriber {
	sub := &subscriber{ch: make(chan *auPackets, queue), waiting: true, w: w}
	f.mu.Lock()
	f.subs[sub] = struct{}{}
	f.mu.Unlock()
	return sub
}

func (f *fanout) remove(sub *subscriber) {
	if sub == nil {
		return
	}
	f.mu.Lock()
	delete(f.subs, sub)
	f.mu.Unlock()
	// What it had queued will never be written: let the AUs finish.
	for {
		select {
		case b := <-sub.ch:
			b.writes.release(1)
			sub.pending.Add(-1)
		default:
			return
		}
	}
}

func (f *fanout) viewers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

// publish measures one access unit and, if anybody is subscribed, writes
// its packets to every viewer that can take them inline and hands them to
// the others' queues, without blocking. It is called from one goroutine.
func (f *fanout) publish(au media.AccessUnit, now time.Time) {
	f.meter.add(now, len(au.Data))
	f.aus.Add(1)
	if au.Keyframe {
		f.keyframes.Add(1)
	}
	f.mu.Lock()
	n := len(f.subs)
	f.mu.Unlock()
	if f.tick != nil {
		f.tick(now, n)
	}
	if n == 0 {
		return
	}
	batch := f.packetize(au)
	if batch == nil {
		return
	}
	wantKey := false
	f.mu.Lock()
	batch.writes.start(f.batch, len(f.subs))
	queued := 0
	inline := f.inline[:0]
	for sub := range f.subs {
		if !sub.gate.admit(now, batch.keyframe, batch.size) {
			sub.waiting = true // every frame again starts at a keyframe
			continue
		}
		if sub.waiting && !batch.keyframe {
			continue
		}
		if sub.w != nil && sub.pending.Load() == 0 && sub.w.inline(sub) {
			sub.waiting = false
			inline = append(inline, sub)
			continue
		}
		sub.pending.Add(1) // before the send: forward may take it at once
		select {
		case sub.ch <- batch:
			sub.waiting = false
			queued++
		default:
			// Full queue: this viewer loses frames until the next keyframe;
			// nobody else notices.
			sub.pending.Add(-1)
			if !sub.waiting {
				wantKey = true
			}
			sub.waiting = true
			sub.drops.Add(1)
			f.drops.Add(1)
		}
	}
	skipped := len(f.subs) - queued - len(inline)
	f.mu.Unlock()
	// Outside the lock: joins and leaves need not wait for the writes. A
	// viewer that leaves meanwhile gets a write its closed peer refuses.
	for _, sub := range inline {
		sub.w.writeAU(sub, batch, nil)
	}
	batch.writes.release(skipped + len(inline))
	f.inlineAUs.Add(uint64(len(inline)))
	f.queuedAUs.Add(uint64(queued))
	clear(inline)
	f.inline = inline[:0]
	if wantKey {
		f.src.RequestKeyframe()
	}
}

// packetize turns an Annex-B access unit into RTP packets: MTU 1200, 90 kHz
// timestamp from the PTS, marker on the last packet, one shared sequence.
func (f *fanout) packetize(au media.AccessUnit) *auPackets {
	payloads := f.pay.Payload(rtpMTU-rtpHeaderLen, au.Data)
	if len(payloads) == 0 {
		return nil
	}
	ts := f.tsBase + uint32(ptsTo90k(au.PTS))
	batch := &auPackets{pkts: make([]*rtp.Packet, len(payloads)), keyframe: au.Keyframe, size: len(au.Data)}
	if !au.Capture.IsZero() {
		batch.capture = absCaptureTime(au.Capture)
	}
	for i, p := range payloads {
		batch.pkts[i] = &rtp.Packet{
			Header: rtp.Header{
				Version:        2,
				Marker:         i == len(payloads)-1,
				SequenceNumber: f.seq,
				Timestamp:      ts,
			},
			Payload: p,
		}
		f.seq++
	}
	return batch
}

// ptsTo90k converts a running time to 90 kHz ticks (rounded) without overflowing for
// long uptimes.
func ptsTo90k(d time.Duration) int64 {
	sec := int64(d / time.Second)
	rem := int64(d % time.Second)
	return sec*90000 + (rem*90000+int64(time.Second)/2)/int64(time.Second)
}
