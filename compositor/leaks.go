package compositor

/*
#cgo pkg-config: gstreamer-1.0
#include <gst/gst.h>

static gint pipcam_count_buffers(const GValue *list) {
	gint n = 0;
	for (guint i = 0; list != NULL && i < gst_value_list_get_size(list); i++) {
		const GstStructure *obj = gst_value_get_structure(gst_value_list_get_value(list, i));
		if (g_strcmp0(gst_structure_get_string(obj, "type-name"), "GstBuffer") == 0) n++;
	}
	return n;
}

// pipcam_buffer_activity reports the GstBuffers created and freed since
// the previous call, from GStreamer's leaks tracer (GST_TRACERS=leaks).
// Its activity checkpoints carry only type names and addresses: unlike
// get-live-objects, which hands out objects it holds no reference to,
// nothing here can free a buffer still in use. Returns FALSE without the
// tracer.
static gboolean pipcam_buffer_activity(gint *created, gint *freed) {
	gboolean found = FALSE;
	*created = 0;
	*freed = 0;
	GList *tracers = gst_tracing_get_active_tracers();
	for (GList *l = tracers; l != NULL; l = l->next) {
		if (g_strcmp0(G_OBJECT_TYPE_NAME(l->data), "GstLeaksTracer") != 0) continue;
		found = TRUE;
		if (g_object_get_data(G_OBJECT(l->data), "pipcam-tracking") == NULL) {
			g_signal_emit_by_name(l->data, "activity-start-tracking");
			g_object_set_data(G_OBJECT(l->data), "pipcam-tracking", GINT_TO_POINTER(1));
			continue;
		}
		GstStructure *cp = NULL;
		g_signal_emit_by_name(l->data, "activity-get-checkpoint", &cp);
		if (cp == NULL) continue;
		*created += pipcam_count_buffers(gst_structure_get_value(cp, "objects-created-list"));
		*freed += pipcam_count_buffers(gst_structure_get_value(cp, "objects-removed-list"));
		gst_structure_free(cp);
	}
	g_list_free_full(tracers, gst_object_unref);
	return found;
}
*/
import "C"

import "sync"

var bufferBalance struct {
	sync.Mutex
	net int
}

// BufferGrowth is how many more GstBuffers are alive now than at its first
// call (buffers created minus buffers freed since then), and false when
// GStreamer's leaks tracer is not running (start pipcam with
// GST_TRACERS=leaks to see it). A graph that gives its buffers back stays
// near zero; make bench's soak prints it.
func BufferGrowth() (int, bool) {
	initGStreamer()
	bufferBalance.Lock()
	defer bufferBalance.Unlock()
	var created, freed C.gint
	if C.pipcam_buffer_activity(&created, &freed) == 0 {
		return 0, false
	}
	bufferBalance.net += int(created) - int(freed)
	return bufferBalance.net, true
}
