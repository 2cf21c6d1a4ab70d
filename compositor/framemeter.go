package compositor

/*
#cgo pkg-config: gstreamer-1.0
#include <gst/gst.h>
#include <string.h>

#define PIPCAM_METER_KEEP 32

// pipcam_meter keeps the monotonic times (µs) of a camera's latest
// pictures. Its probe runs in the camera's streaming thread and never
// enters Go (see auQueue for what a call into Go costs per picture).
// Reference-counted: the camera holds one reference, each probe another.
typedef struct {
	GMutex mu;
	gint64 times[PIPCAM_METER_KEEP];
	guint64 n; // pictures seen, ever
} pipcam_meter;

static pipcam_meter *pipcam_meter_new(void) {
	pipcam_meter *m = g_atomic_rc_box_new0(pipcam_meter);
	g_mutex_init(&m->mu);
	return m;
}

static void pipcam_meter_clear(gpointer data) {
	g_mutex_clear(&((pipcam_meter *)data)->mu);
}

static void pipcam_meter_unref(gpointer m) {
	g_atomic_rc_box_release_full(m, pipcam_meter_clear);
}

static GstPadProbeReturn pipcam_meter_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data) {
	pipcam_meter *m = data;
	gint64 now = g_get_monotonic_time();
	g_mutex_lock(&m->mu);
	m->times[m->n % PIPCAM_METER_KEEP] = now;
	m->n++;
	g_mutex_unlock(&m->mu);
	return GST_PAD_PROBE_OK;
}

static void pipcam_meter_watch(GstPad *pad, pipcam_meter *m) {
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, pipcam_meter_probe,
		g_atomic_rc_box_acquire(m), pipcam_meter_unref);
}

// pipcam_meter_read copies the times out; returns the count and the
// monotonic time now.
static guint64 pipcam_meter_read(pipcam_meter *m, gint64 *times, gint64 *now) {
	g_mutex_lock(&m->mu);
	memcpy(times, m->times, sizeof m->times);
	guint64 n = m->n;
	g_mutex_unlock(&m->mu);
	*now = g_get_monotonic_time();
	return n;
}
*/
import "C"

import (
	"runtime"
	"time"
	"unsafe"

	"github.com/go-gst/go-gst/gst"
)

// frameMeter keeps the arrival times of a camera's latest pictures, fed
// from a pad probe in the camera's streaming thread: the time of the last
// picture (for stall detection) and the measured rate (for status), with
// no timer of its own. It outlives the camera's runs: each run's probe
// feeds the same meter.
type frameMeter struct{ c *C.pipcam_meter }

func newFrameMeter() *frameMeter {
	m := &frameMeter{c: C.pipcam_meter_new()}
	runtime.AddCleanup(m, func(c *C.pipcam_meter) { C.pipcam_meter_unref(C.gpointer(c)) }, m.c)
	return m
}

// watch counts the buffers passing pad, for as long as the pad lives.
func (m *frameMeter) watch(pad *gst.Pad) {
	C.pipcam_meter_watch((*C.GstPad)(pad.Unsafe()), m.c)
	runtime.KeepAlive(pad)
	runtime.KeepAlive(m)
}

// read returns the pictures seen, ever, and the times of the latest ones
// (oldest first, at most len(times)) on Go's clock.
func (m *frameMeter) read() (n int, times []time.Time) {
	var raw [C.PIPCAM_METER_KEEP]C.gint64
	var monoNow C.gint64
	count := int(C.pipcam_meter_read(m.c, (*C.gint64)(unsafe.Pointer(&raw[0])), &monoNow))
	now := time.Now()
	runtime.KeepAlive(m)
	k := min(count, len(raw))
	times = make([]time.Time, k)
	for i := range k {
		mono := raw[(count-k+i)%len(raw)]
		times[i] = now.Add(-time.Duration(monoNow-mono) * time.Microsecond)
	}
	return count, times
}

// last is when the latest picture came (zero before any).
func (m *frameMeter) last() time.Time {
	_, times := m.read()
	if len(times) == 0 {
		return time.Time{}
	}
	return times[len(times)-1]
}

// rate is the frame rate over the pictures kept, 0 when the camera has sent
// nothing for longer than those pictures took; and the last picture's time.
func (m *frameMeter) rate() (float64, time.Time) {
	_, times := m.read()
	if len(times) == 0 {
		return 0, time.Time{}
	}
	newest := times[len(times)-1]
	if len(times) < 2 {
		return 0, newest
	}
	span := newest.Sub(times[0])
	if span <= 0 || time.Since(newest) > span {
		return 0, newest
	}
	return float64(len(times)-1) / span.Seconds(), newest
}
