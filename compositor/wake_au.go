package compositor

/*
#cgo pkg-config: gstreamer-1.0 gstreamer-app-1.0
#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <sys/eventfd.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdint.h>

// pipcam_au_wake is what the encoded-picture appsink's callbacks need.
// They run in GStreamer's streaming thread and never enter Go: they write
// an eventfd that Go's poller watches.
typedef struct {
	gint prompt; // wake for every sample, not only at end of stream
	int fd;      // the callbacks' own end; closed with the appsink
} pipcam_au_wake;

static void pipcam_au_poke(int fd) {
	uint64_t one = 1;
	// A full counter (it never is) or a closed reader only loses a
	// wake-up; the samples stay queued.
	if (write(fd, &one, sizeof one) < 0) {}
}

static GstFlowReturn pipcam_au_sample(GstAppSink *sink, gpointer data) {
	pipcam_au_wake *w = data;
	if (g_atomic_int_get(&w->prompt)) pipcam_au_poke(w->fd);
	return GST_FLOW_OK;
}

static void pipcam_au_eos(GstAppSink *sink, gpointer data) {
	pipcam_au_poke(((pipcam_au_wake *)data)->fd);
}

static void pipcam_au_free(gpointer data) {
	pipcam_au_wake *w = data;
	close(w->fd);
	g_free(w);
}

// pipcam_au_notify installs the callbacks and returns Go's own descriptor
// of the eventfd (a duplicate: Go may close it while the appsink still
// writes its end), or -1.
static int pipcam_au_notify(GstAppSink *sink, gint prompt, pipcam_au_wake **out) {
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0) return -1;
	int mine = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (mine < 0) {
		close(fd);
		return -1;
	}
	pipcam_au_wake *w = g_new0(pipcam_au_wake, 1);
	w->fd = fd;
	w->prompt = prompt;
	GstAppSinkCallbacks cb = {0};
	cb.eos = pipcam_au_eos;
	cb.new_sample = pipcam_au_sample;
	gst_app_sink_set_callbacks(sink, &cb, w, pipcam_au_free);
	*out = w;
	return mine;
}

static void pipcam_au_set_prompt(pipcam_au_wake *w, gint on) {
	g_atomic_int_set(&w->prompt, on);
}
*/
import "C"

import (
	"errors"
	"os"
	"runtime"

	"github.com/go-gst/go-gst/gst/app"
)

// auWaker tells the pull loop that the appsink has encoded pictures (or
// reached end of stream). A Go callback per picture would cost more than
// the picture's own handling with nobody watching: a call into Go from a
// GStreamer thread wakes a Go thread and Go's sysmon, which then polls
// every 20 µs for a millisecond. So the appsink's callbacks are C and
// write an eventfd that Go's poller watches, and they write it for each
// picture only while the Graph is prompt (somebody needs the pictures as
// they come); otherwise the pull loop drains the appsink on a slow timer.
type auWaker struct {
	sink *app.Sink // keeps the appsink, and so c, alive
	c    *C.pipcam_au_wake
	file *os.File
	done chan struct{}
}

// notifyAUs makes sink wake n (prompt: for each picture; always at end of
// stream) until close.
func notifyAUs(sink *app.Sink, prompt bool, n notifier) (*auWaker, error) {
	w := &auWaker{sink: sink, done: make(chan struct{})}
	fd := C.pipcam_au_notify((*C.GstAppSink)(sink.Unsafe()), cBool(prompt), &w.c)
	if fd < 0 {
		return nil, errors.New("create the appsink's eventfd")
	}
	// Non-blocking, so os.File reads it through Go's poller: a parked
	// goroutine, not a thread blocked in read.
	w.file = os.NewFile(uintptr(fd), "pipcam-au-wake")
	go func() {
		defer close(w.done)
		var b [8]byte
		for {
			if _, err := w.file.Read(b[:]); err != nil {
				return // closed
			}
			n.notify()
		}
	}()
	return w, nil
}

// setPrompt turns the wake-up per picture on or off.
func (w *auWaker) setPrompt(on bool) {
	C.pipcam_au_set_prompt(w.c, cBool(on))
	runtime.KeepAlive(w.sink)
}

// close ends the reader; the appsink frees its end with itself.
func (w *auWaker) close() {
	_ = w.file.Close()
	<-w.done
}

func cBool(b bool) C.gint {
	if b {
		return 1
	}
	return 0
}
