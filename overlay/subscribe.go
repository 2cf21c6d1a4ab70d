package overlay

import "sync"

// subBuffer is how many statuses a slow subscriber may fall behind before
// the oldest are dropped; the latest is always delivered.
const subBuffer = 16

// subscribers fans statuses out without ever blocking the producer.
type subscribers struct {
	mu     sync.Mutex
	chans  map[chan Status]struct{}
	closed bool
}

// add returns a channel that starts with latest, and its cancel func.
func (s *subscribers) add(latest Status) (<-chan Status, func()) {
	ch := make(chan Status, subBuffer)
	ch <- latest
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		close(ch)
		return ch, func() {}
	}
	if s.chans == nil {
		s.chans = map[chan Status]struct{}{}
	}
	s.chans[ch] = struct{}{}
	return ch, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := s.chans[ch]; ok {
			delete(s.chans, ch)
			close(ch)
		}
	}
}

// publish hands st to every subscriber; one that is full loses its oldest
// status rather than hold up the overlay.
func (s *subscribers) publish(st Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.chans {
		select {
		case ch <- st:
			continue
		default:
		}
		select {
		case <-ch:
		default:
		}
		select {
		case ch <- st:
		default:
		}
	}
}

// closeAll ends every subscription (the overlay is closing).
func (s *subscribers) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for ch := range s.chans {
		close(ch)
	}
	s.chans = nil
}
