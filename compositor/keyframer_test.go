package compositor

import (
	"testing"
	"time"
)

// fakeClock drives the keyframer without real time: timers fire when the
// test advances the clock.
type fakeClock struct {
	now    time.Time
	timers []fakeTimer
}

type fakeTimer struct {
	at time.Time
	f  func()
}

func (c *fakeClock) after(d time.Duration, f func()) *time.Timer {
	c.timers = append(c.timers, fakeTimer{c.now.Add(d), f})
	return time.NewTimer(time.Hour) // only Stop is used on it
}

func (c *fakeClock) advance(d time.Duration) {
	c.now = c.now.Add(d)
	var keep []fakeTimer
	var due []func()
	for _, tm := range c.timers {
		if !tm.at.After(c.now) {
			due = append(due, tm.f)
		} else {
			keep = append(keep, tm)
		}
	}
	c.timers = keep
	for _, f := range due {
		f()
	}
}

func TestKeyframerRateLimitsAndCoalesces(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	sent := 0
	k := newKeyframer(250*time.Millisecond, func() { sent++ })
	k.now = func() time.Time { return clock.now }
	k.after = clock.after

	k.Request() // first: immediate
	if sent != 1 {
		t.Fatalf("first request: sent %d, want 1", sent)
	}
	for i := 0; i < 50; i++ { // a crowd inside the gap: one trailing keyframe
		k.Request()
	}
	if sent != 1 {
		t.Fatalf("inside the gap: sent %d, want 1", sent)
	}
	clock.advance(249 * time.Millisecond)
	if sent != 1 {
		t.Fatalf("before the gap ends: sent %d, want 1", sent)
	}
	clock.advance(1 * time.Millisecond)
	if sent != 2 {
		t.Fatalf("at the gap's end: sent %d, want 2 (the trailing one)", sent)
	}
	clock.advance(time.Second)
	k.Request() // long after: immediate again
	if sent != 3 {
		t.Fatalf("after a quiet second: sent %d, want 3", sent)
	}
	if req, s := k.stats(); req != 52 || s != 3 {
		t.Fatalf("stats: %d requests, %d sent; want 52, 3", req, s)
	}
	k.Request()
	k.Close()
	clock.advance(time.Second)
	if sent != 3 {
		t.Fatalf("after Close: sent %d, want 3", sent)
	}
}

func TestKeyframerZeroGapSendsEveryRequest(t *testing.T) {
	sent := 0
	k := newKeyframer(0, func() { sent++ })
	for i := 0; i < 5; i++ {
		k.Request()
	}
	if sent != 5 {
		t.Fatalf("sent %d, want 5", sent)
	}
}
