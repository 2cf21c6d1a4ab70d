package signaling

import (
	"sync"
	"time"
)

// tickHub gives every viewer's sender-report loop (rtpsend.go) its ticks
// from one timer. A time.Ticker per viewer: with a crowd that is
// a timer firing for each viewer every second, and each firing wakes a
// thread (and Go's sysmon, which sleeps until the next timer). One timer
// wakes them once a second together, and the reports leave in the same
// moment. The timer runs only while a viewer has a ticker.
type tickHub struct {
	mu     sync.Mutex
	subs   map[*hubTicker]struct{}
	ticker *time.Ticker
	stop   chan struct{}
}

func newTickHub() *tickHub {
	return &tickHub{subs: map[*hubTicker]struct{}{}}
}

// hubTicker is one viewer's ticker.
type hubTicker struct {
	hub *tickHub
	ch  chan time.Time
}

func (t *hubTicker) Ch() <-chan time.Time { return t.ch }
func (t *hubTicker) Stop()                { t.hub.remove(t) }

// newTicker ticks every d. Every report loop asks for the same interval;
// the timer runs at the one asked for when it started.
func (h *tickHub) newTicker(d time.Duration) *hubTicker {
	t := &hubTicker{hub: h, ch: make(chan time.Time, 1)}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.subs[t] = struct{}{}
	if h.ticker == nil {
		h.ticker = time.NewTicker(d)
		h.stop = make(chan struct{})
		go h.run(h.ticker, h.stop)
	}
	return t
}

func (h *tickHub) remove(t *hubTicker) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs, t)
	if len(h.subs) == 0 && h.ticker != nil {
		h.ticker.Stop()
		close(h.stop)
		h.ticker, h.stop = nil, nil
	}
}

func (h *tickHub) run(tk *time.Ticker, stop chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case now := <-tk.C:
			h.mu.Lock()
			for t := range h.subs {
				select {
				case t.ch <- now:
				default: // its loop has not taken the last tick: as time.Ticker, skip
				}
			}
			h.mu.Unlock()
		}
	}
}
