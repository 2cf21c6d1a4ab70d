package compositor

/*
#cgo pkg-config: gstreamer-1.0 gstreamer-app-1.0
#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <sys/eventfd.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdint.h>
#include <string.h>

// pipcam_au_queue is where the encoded-picture appsink's callbacks put
// the pictures for Go. The callbacks run in GStreamer's streaming thread
// and never enter Go: they take each sample at once, copy the picture
// and what Go needs of it into a slot, and write an eventfd that Go's
// poller watches. Go takes the slots with no call into C. The slots are a
// ring with one writer (the streaming thread: head) and one reader (the
// pull loop: tail).
#define PIPCAM_AU_SLOTS 64

typedef struct {
	guint8 *data;
	gsize len, cap;
	gint64 pts, duration, running; // ns; -1: none
	gint64 taken;                  // wall clock (ns) when the picture was taken by the camera; 0: unknown
	gint keyframe;
} pipcam_au_slot;

typedef struct {
	gint prompt;     // wake for every sample, not only at end of stream
	int fd;          // the callbacks' own end; closed with the appsink
	guint32 head;    // slots written (atomic; streaming thread)
	guint32 tail;    // slots taken (atomic; Go)
	gint eos;        // the appsink reached end of stream (atomic)
	guint64 dropped; // pictures lost to a full ring (atomic)
	pipcam_au_slot slots[PIPCAM_AU_SLOTS];
} pipcam_au_queue;

static void pipcam_au_poke(int fd) {
	uint64_t one = 1;
	// A full counter (it never is) or a closed reader only loses a
	// wake-up; the pictures stay queued.
	if (write(fd, &one, sizeof one) < 0) {}
}

// pipcam_au_fill copies sample's picture into sl; FALSE: no picture.
static gboolean pipcam_au_fill(GstAppSink *sink, GstSample *sample, pipcam_au_slot *sl) {
	GstBuffer *b = gst_sample_get_buffer(sample);
	GstMapInfo m;
	if (b == NULL || !gst_buffer_map(b, &m, GST_MAP_READ)) return FALSE;
	if (sl->cap < m.size) {
		sl->data = g_realloc(sl->data, m.size);
		sl->cap = m.size;
	}
	memcpy(sl->data, m.data, m.size);
	sl->len = m.size;
	gst_buffer_unmap(b, &m);
	sl->pts = GST_BUFFER_PTS_IS_VALID(b) ? (gint64)GST_BUFFER_PTS(b) : -1;
	sl->duration = GST_BUFFER_DURATION_IS_VALID(b) ? (gint64)GST_BUFFER_DURATION(b) : -1;
	sl->keyframe = !GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DELTA_UNIT);
	// Running time: the PTS through the sample's segment (encoders shift
	// PTS by 1000 hours and their segment with it).
	sl->running = -1;
	GstSegment *seg = gst_sample_get_segment(sample);
	if (seg != NULL && sl->pts >= 0) {
		guint64 rt = gst_segment_to_running_time(seg, GST_FORMAT_TIME, (guint64)sl->pts);
		if (rt != GST_CLOCK_TIME_NONE) sl->running = (gint64)rt;
	}
	// Running time + base time is a time of the pipeline clock; how far
	// it lies behind the clock now is how long ago the picture was taken.
	sl->taken = 0;
	GstClock *clock = gst_element_get_clock(GST_ELEMENT(sink));
	if (clock != NULL && sl->running >= 0) {
		GstClockTime now = gst_clock_get_time(clock);
		GstClockTime base = gst_element_get_base_time(GST_ELEMENT(sink));
		if (now != GST_CLOCK_TIME_NONE && base != GST_CLOCK_TIME_NONE) {
			gint64 ago = (gint64)now - (gint64)base - sl->running;
			// Never in the future: one CI race run saw a running time 29 ms
			// ahead of the clock among the first pictures (cause not
			// found); it is read as "just now".
			if (ago < 0) ago = 0;
			sl->taken = g_get_real_time() * 1000 - ago;
		}
	}
	if (clock != NULL) gst_object_unref(clock);
	return TRUE;
}

static GstFlowReturn pipcam_au_sample(GstAppSink *sink, gpointer data) {
	pipcam_au_queue *q = data;
	GstSample *sample = gst_app_sink_try_pull_sample(sink, 0);
	if (sample == NULL) return GST_FLOW_OK;
	guint32 head = q->head; // only this thread writes it
	if (head - __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE) >= PIPCAM_AU_SLOTS) {
		// Go is not taking them: lose this one, as a full appsink with
		// drop=true would lose one.
		__atomic_add_fetch(&q->dropped, 1, __ATOMIC_RELAXED);
	} else if (pipcam_au_fill(sink, sample, &q->slots[head % PIPCAM_AU_SLOTS])) {
		__atomic_store_n(&q->head, head + 1, __ATOMIC_RELEASE);
	}
	gst_sample_unref(sample);
	if (g_atomic_int_get(&q->prompt)) pipcam_au_poke(q->fd);
	return GST_FLOW_OK;
}

static void pipcam_au_eos(GstAppSink *sink, gpointer data) {
	pipcam_au_queue *q = data;
	__atomic_store_n(&q->eos, 1, __ATOMIC_RELEASE);
	pipcam_au_poke(q->fd);
}

static void pipcam_au_free(gpointer data) {
	pipcam_au_queue *q = data;
	close(q->fd);
	for (int i = 0; i < PIPCAM_AU_SLOTS; i++) g_free(q->slots[i].data);
	g_free(q);
}

// pipcam_au_notify installs the callbacks and returns Go's own descriptor
// of the eventfd (a duplicate: Go may close it while the appsink still
// writes its end), or -1.
static int pipcam_au_notify(GstAppSink *sink, gint prompt, pipcam_au_queue **out) {
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0) return -1;
	int mine = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (mine < 0) {
		close(fd);
		return -1;
	}
	pipcam_au_queue *q = g_new0(pipcam_au_queue, 1);
	q->fd = fd;
	q->prompt = prompt;
	GstAppSinkCallbacks cb = {0};
	cb.eos = pipcam_au_eos;
	cb.new_sample = pipcam_au_sample;
	gst_app_sink_set_callbacks(sink, &cb, q, pipcam_au_free);
	*out = q;
	return mine;
}

static void pipcam_au_set_prompt(pipcam_au_queue *q, gint on) {
	g_atomic_int_set(&q->prompt, on);
}
*/
import "C"

import (
	"errors"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/go-gst/go-gst/gst/app"
	"golang.org/x/sys/unix"

	"github.com/pipcam/pipcam/media"
)

// auQueue hands the pull loop the appsink's encoded pictures and tells it
// when there are some (or the end of stream), with no call from Go into C
// or from C into Go per picture. Either would cost more than the
// picture's own handling with nobody watching, and with a crowd each wakes
// Go's sysmon, which then polls every 20 µs for as long as the crowd's
// packets take to send: a call into C is a system call to Go's scheduler.
// So the appsink's callbacks are C: they copy each picture into a ring
// and write an eventfd, which Go reads with a raw system call when its
// poller says it is ready. They write it for each picture only while the
// Graph is prompt (somebody needs the pictures as they come); otherwise
// the pull loop drains the ring on a slow timer.
type auQueue struct {
	sink *app.Sink // keeps the appsink, and so q, alive
	q    *C.pipcam_au_queue
	file *os.File
	done chan struct{}
}

// queueAUs makes sink queue its pictures and wake n (prompt: for each
// picture; always at end of stream) until close.
func queueAUs(sink *app.Sink, prompt bool, n notifier) (*auQueue, error) {
	w := &auQueue{sink: sink, done: make(chan struct{})}
	fd := C.pipcam_au_notify((*C.GstAppSink)(sink.Unsafe()), cBool(prompt), &w.q)
	if fd < 0 {
		return nil, errors.New("create the appsink's eventfd")
	}
	// Non-blocking, so the file is read through Go's poller: a parked
	// goroutine, not a thread blocked in read.
	w.file = os.NewFile(uintptr(fd), "pipcam-au-wake")
	rc, err := w.file.SyscallConn()
	if err != nil {
		_ = w.file.Close()
		return nil, err
	}
	go func() {
		defer close(w.done)
		for {
			if err := readEventfd(rc); err != nil {
				return // closed
			}
			n.notify()
		}
	}()
	return w, nil
}

// readEventfd waits for and resets the counter, with a raw read(2) (a
// plain read would be a system call to Go's scheduler, waking sysmon).
func readEventfd(rc syscall.RawConn) error {
	var b [8]byte
	var errno syscall.Errno
	err := rc.Read(func(fd uintptr) bool {
		_, _, errno = unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		return errno != unix.EAGAIN
	})
	if err != nil {
		return err
	}
	if errno != 0 && errno != unix.EINTR {
		return errno
	}
	return nil
}

// take copies the oldest queued picture out (ok false: none queued).
// au.Capture is when the camera took it, as the pipeline clock tells.
func (w *auQueue) take() (au media.AccessUnit, ok bool) {
	head := atomic.LoadUint32((*uint32)(unsafe.Pointer(&w.q.head)))
	tailp := (*uint32)(unsafe.Pointer(&w.q.tail))
	tail := atomic.LoadUint32(tailp)
	if head == tail {
		return media.AccessUnit{}, false
	}
	sl := &w.q.slots[tail%C.PIPCAM_AU_SLOTS]
	data := make([]byte, int(sl.len))
	copy(data, unsafe.Slice((*byte)(unsafe.Pointer(sl.data)), int(sl.len)))
	au = media.AccessUnit{
		Data:     data,
		PTS:      time.Duration(sl.pts),
		Duration: time.Duration(sl.duration),
		Keyframe: sl.keyframe != 0,
	}
	if sl.taken != 0 {
		au.Capture = time.Unix(0, int64(sl.taken))
	}
	atomic.StoreUint32(tailp, tail+1) // the slot may be written again
	runtime.KeepAlive(w.sink)
	return au, true
}

// ended tells whether the appsink reached end of stream.
func (w *auQueue) ended() bool {
	ended := atomic.LoadInt32((*int32)(unsafe.Pointer(&w.q.eos))) != 0
	runtime.KeepAlive(w.sink)
	return ended
}

// setPrompt turns the wake-up per picture on or off.
func (w *auQueue) setPrompt(on bool) {
	C.pipcam_au_set_prompt(w.q, cBool(on))
	runtime.KeepAlive(w.sink)
}

// close ends the reader; the appsink frees the ring with itself.
func (w *auQueue) close() {
	_ = w.file.Close()
	<-w.done
}

func cBool(b bool) C.gint {
	if b {
		return 1
	}
	return 0
}

// dropped is how many pictures a full ring lost.
func (w *auQueue) dropped() uint64 {
	n := atomic.LoadUint64((*uint64)(unsafe.Pointer(&w.q.dropped)))
	runtime.KeepAlive(w.sink)
	return n
}
