package overlay

import (
	"context"
	"time"
)

// backoff doubles the wait after each failure, from min up to max, so a
// printer server that is down is asked about once every max.
type backoff struct {
	min, max time.Duration
	next     time.Duration
}

func (b *backoff) wait() time.Duration {
	d := max(b.next, b.min)
	b.next = min(d*2, b.max)
	return d
}

func (b *backoff) reset() { b.next = b.min }

// sleep waits d or until ctx ends; false means ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
