package signaling

import (
	"sync"
	"time"
)

// meter measures bytes and access units over a sliding window.
type meter struct {
	window time.Duration

	mu      sync.Mutex
	start   time.Time // first sample ever
	samples []meterSample
}

type meterSample struct {
	t     time.Time
	bytes int
}

func (m *meter) add(now time.Time, bytes int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.start.IsZero() {
		m.start = now
	}
	m.samples = append(m.samples, meterSample{now, bytes})
	m.trim(now)
}

func (m *meter) trim(now time.Time) {
	cut := 0
	for cut < len(m.samples) && now.Sub(m.samples[cut].t) > m.window {
		cut++
	}
	if cut > 0 {
		m.samples = append(m.samples[:0], m.samples[cut:]...)
	}
}

// rates returns kbit/s and access units per second over the window ending
// at now (or since the first sample, while the stream is younger than the
// window).
func (m *meter) rates(now time.Time) (kbps, fps float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.trim(now)
	span := min(m.window, now.Sub(m.start)).Seconds()
	if len(m.samples) == 0 || span < 0.25 { // too little to say anything
		return 0, 0
	}
	bytes := 0
	for _, s := range m.samples {
		bytes += s.bytes
	}
	return float64(bytes) * 8 / 1000 / span, float64(len(m.samples)) / span
}
