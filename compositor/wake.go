package compositor

import (
	"github.com/go-gst/go-gst/gst"
)

// The pull and bus loops used to wait inside GStreamer (a timed pull, a
// timed bus pop). A goroutine blocked in a cgo call holds its P in a
// system call, and Go's sysmon takes such a P back after 10 ms and then
// polls every 20 µs for a while: with a picture every 66 ms and a bus
// timeout every 100 ms that kept sysmon busy, the biggest part of the Go
// side's cost with no viewer. Instead GStreamer's streaming thread tells a
// Go channel that there is something to take (for the pictures through an
// eventfd, wake_au.go), and the loops wait on the channel, outside cgo.

// notifier is a wake-up that never blocks the thread that gives it.
type notifier chan struct{}

func newNotifier() notifier { return make(notifier, 1) }

func (n notifier) notify() {
	select {
	case n <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// notifyBus queues only the messages of types on the bus, waking n for
// each; every other message is dropped where it is posted, so the bus
// never holds what nobody reads.
func notifyBus(bus *gst.Bus, types gst.MessageType, n notifier) {
	bus.SetSyncHandler(func(msg *gst.Message) gst.BusSyncReply {
		if msg.Type()&types == 0 {
			msg.Unref()
			return gst.BusDrop
		}
		n.notify()
		return gst.BusPass
	})
}
