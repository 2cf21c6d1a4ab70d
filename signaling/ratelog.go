package signaling

import (
	"log/slog"
	"sync"
	"time"
)

// throttle lets through at most burst events per window and counts the
// rest. The zero value lets nothing through; use newThrottle.
type throttle struct {
	window time.Duration
	burst  int

	mu         sync.Mutex
	start      time.Time
	n          int
	suppressed int
}

func newThrottle(window time.Duration, burst int) *throttle {
	return &throttle{window: window, burst: burst}
}

// allow reports whether the event at now may be logged, and how many
// events were held back in the windows before it since the last report.
func (t *throttle) allow(now time.Time) (ok bool, heldBack int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.start.IsZero() || now.Sub(t.start) >= t.window {
		t.start, t.n = now, 0
	}
	if t.n >= t.burst {
		t.suppressed++
		return false, 0
	}
	t.n++
	heldBack, t.suppressed = t.suppressed, 0
	return true, heldBack
}

// rejectLog logs refused requests (4xx, 503): each with its reason and
// client address, at most a few per window; the next line that gets
// through says how many were held back.
type rejectLog struct {
	log *slog.Logger
	t   *throttle
	now func() time.Time
}

func (l rejectLog) add(status int, reason, client, method, path string) {
	ok, held := l.t.allow(l.now())
	if !ok {
		return
	}
	args := []any{"status", status, "reason", reason, "client", client, "method", method, "path", path}
	if held > 0 {
		args = append(args, "not_logged_before", held)
	}
	l.log.Info("request refused", args...)
}
