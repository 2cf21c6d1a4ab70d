package compositor

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-gst/go-gst/gst"
	"github.com/go-gst/go-gst/gst/app"
)

// snapshotter runs the JPEG branch only while a snapshot is wanted: the
// valve opens, one fresh frame is encoded, the valve closes.
type snapshotter struct {
	mu    sync.Mutex // one snapshot at a time; callers queue
	valve *gst.Element
	sink  *app.Sink
}

func (s *snapshotter) take(ctx context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Drop a stale frame left from a previous opening.
	for s.sink.TryPullSample(0) != nil {
	}
	if err := s.valve.SetProperty("drop", false); err != nil {
		return nil, fmt.Errorf("open JPEG branch: %w", err)
	}
	defer func() { _ = s.valve.SetProperty("drop", true) }()
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("snapshot: %w", err)
		}
		sample := s.sink.TryPullSample(gst.ClockTime(50 * time.Millisecond))
		if sample == nil {
			continue
		}
		if buf := sample.GetBuffer(); buf != nil {
			return buf.Bytes(), nil
		}
	}
}
