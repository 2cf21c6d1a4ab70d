package signaling

import (
	"testing"
	"time"
)

// Every ticker of the hub ticks from its one timer, which runs only while
// some ticker is not stopped; a stopped ticker gets no more ticks.
func TestTickHubTicksAllFromOneTimer(t *testing.T) {
	h := newTickHub()
	const every = 10 * time.Millisecond
	a, b := h.newTicker(every), h.newTicker(every)
	for _, tk := range []interface{ Ch() <-chan time.Time }{a, b} {
		select {
		case <-tk.Ch():
		case <-time.After(5 * time.Second):
			t.Fatal("a ticker got no tick")
		}
	}
	a.Stop()
	h.mu.Lock()
	running := h.ticker != nil
	h.mu.Unlock()
	if !running {
		t.Fatal("the timer stopped while a ticker was left")
	}
	// Drain what a took before Stop, then it must stay silent.
	select {
	case <-a.Ch():
	default:
	}
	select {
	case <-a.Ch():
		t.Fatal("a stopped ticker ticked")
	case <-b.Ch():
	case <-time.After(5 * time.Second):
		t.Fatal("the remaining ticker got no tick")
	}
	b.Stop()
	h.mu.Lock()
	running = h.ticker != nil
	h.mu.Unlock()
	if running {
		t.Error("the timer runs with no ticker left")
	}
	c := h.newTicker(every) // starts it again
	select {
	case <-c.Ch():
	case <-time.After(5 * time.Second):
		t.Fatal("a ticker after a restart got no tick")
	}
	c.Stop()
}
