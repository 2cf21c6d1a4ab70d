package compositor

import (
	"sync"

	"github.com/pipcam/pipcam/media"
)

// fanout hands every access unit to every subscriber without ever waiting:
// a full subscriber channel loses that access unit. It also counts who
// needs the access units as they come (prompt); while nobody does, the
// pull loop takes them in batches (pull.go).
type fanout struct {
	mu      sync.Mutex
	next    int
	subs    map[int]chan media.AccessUnit
	dropped uint64
	prompt  int
	// promptChanged wakes the pull loop when prompt goes to or from 0.
	promptChanged notifier
}

func newFanout() *fanout { return &fanout{promptChanged: newNotifier()} }

// subscribe delivers every access unit from now on until cancel is called;
// prompt subscriptions hold the fanout prompt meanwhile.
func (f *fanout) subscribe(buffer int, prompt bool) (<-chan media.AccessUnit, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.subs == nil {
		f.subs = map[int]chan media.AccessUnit{}
	}
	id := f.next
	f.next++
	ch := make(chan media.AccessUnit, max(buffer, 1))
	f.subs[id] = ch
	release := func() {}
	if prompt {
		release = f.holdLocked()
	}
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			release()
			f.mu.Lock()
			defer f.mu.Unlock()
			if c, ok := f.subs[id]; ok {
				delete(f.subs, id)
				close(c)
			}
		})
	}
}

// hold keeps the fanout prompt until release is called.
func (f *fanout) hold() (release func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.holdLocked()
}

func (f *fanout) holdLocked() (release func()) {
	if f.prompt++; f.prompt == 1 {
		f.promptChanged.notify()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.prompt--; f.prompt == 0 {
				f.promptChanged.notify()
			}
		})
	}
}

// prompting says whether anybody needs the access units as they come.
func (f *fanout) prompting() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.prompt > 0
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
