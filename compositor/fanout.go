package compositor

import (
	"sync"

	"github.com/pipcam/pipcam/media"
)

// fanout hands every access unit to every subscriber without ever waiting:
// a full subscriber channel loses that access unit.
type fanout struct {
	mu      sync.Mutex
	next    int
	subs    map[int]chan media.AccessUnit
	dropped uint64
}

func (f *fanout) subscribe(buffer int) (<-chan media.AccessUnit, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.subs == nil {
		f.subs = map[int]chan media.AccessUnit{}
	}
	id := f.next
	f.next++
	ch := make(chan media.AccessUnit, max(buffer, 1))
	f.subs[id] = ch
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			if c, ok := f.subs[id]; ok {
				delete(f.subs, id)
				close(c)
			}
		})
	}
}

func (f *fanout) publish(au media.AccessUnit) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ch := range f.subs {
		select {
		case ch <- au:
		default:
			f.dropped++
		}
	}
}

// closeAll ends every subscription (the graph is closing).
func (f *fanout) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, ch := range f.subs {
		delete(f.subs, id)
		close(ch)
	}
}

func (f *fanout) stats() (subscribers int, dropped uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs), f.dropped
}
