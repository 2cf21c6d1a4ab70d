package compositor

import (
	"sync"
	"time"
)

// frameMeter keeps the arrival times of a camera's latest pictures, fed
// from a pad probe in the camera's streaming thread: the time of the last
// picture (for stall detection) and the measured rate (for status), with
// no timer of its own.
type frameMeter struct {
	mu    sync.Mutex
	times [32]time.Time
	n     int // pictures seen, ever
}

func (m *frameMeter) tick(now time.Time) {
	m.mu.Lock()
	m.times[m.n%len(m.times)] = now
	m.n++
	m.mu.Unlock()
}

// last is when the latest picture came (zero before any).
func (m *frameMeter) last() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lastLocked()
}

// rate is the frame rate over the pictures kept, 0 when the camera has sent
// nothing for longer than those pictures took; and the last picture's time.
func (m *frameMeter) rate() (float64, time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.n < 2 {
		return 0, m.lastLocked()
	}
	k := min(m.n, len(m.times))
	newest := m.times[(m.n-1)%len(m.times)]
	oldest := m.times[(m.n-k)%len(m.times)]
	span := newest.Sub(oldest)
	if span <= 0 || time.Since(newest) > span {
		return 0, newest
	}
	return float64(k-1) / span.Seconds(), newest
}

func (m *frameMeter) lastLocked() time.Time {
	if m.n == 0 {
		return time.Time{}
	}
	return m.times[(m.n-1)%len(m.times)]
}
