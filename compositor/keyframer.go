package compositor

import (
	"sync"
	"time"
)

// keyframer rate-limits keyframe requests: at most one IDR per minGap. A
// request inside the gap is not lost: one trailing request fires when the
// gap ends, so a viewer that joins just after another still gets its
// keyframe soon, and a crowd of PLIs costs one IDR per gap.
type keyframer struct {
	minGap time.Duration
	send   func()
	now    func() time.Time
	after  func(time.Duration, func()) *time.Timer

	mu       sync.Mutex
	last     time.Time
	pending  *time.Timer
	closed   bool
	sent     uint64
	requests uint64
}

func newKeyframer(minGap time.Duration, send func()) *keyframer {
	return &keyframer{minGap: minGap, send: send, now: time.Now, after: time.AfterFunc}
}

// Request asks for a keyframe now or, inside the gap, at its end.
func (k *keyframer) Request() {
	k.mu.Lock()
	k.requests++
	if k.closed || k.pending != nil {
		k.mu.Unlock()
		return
	}
	wait := k.minGap - k.now().Sub(k.last)
	if k.last.IsZero() || wait <= 0 {
		k.last = k.now()
		k.sent++
		k.mu.Unlock()
		k.send()
		return
	}
	k.pending = k.after(wait, k.fire)
	k.mu.Unlock()
}

func (k *keyframer) fire() {
	k.mu.Lock()
	k.pending = nil
	if k.closed {
		k.mu.Unlock()
		return
	}
	k.last = k.now()
	k.sent++
	k.mu.Unlock()
	k.send()
}

// Close cancels a pending request; later requests are ignored.
func (k *keyframer) Close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closed = true
	if k.pending != nil {
		k.pending.Stop()
		k.pending = nil
	}
}

func (k *keyframer) stats() (requests, sent uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.requests, k.sent
}
