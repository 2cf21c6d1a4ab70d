package signaling

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
)

// JPEGSource is the composite as JPEG, made only while someone asks:
// snapshots and MJPEG. The compositor's graph implements it.
type JPEGSource interface {
	// Snapshot returns a current picture. Callers asking at the same time
	// share one encode. An error wrapping errors.ErrUnsupported means JPEG
	// is turned off in the config.
	Snapshot(ctx context.Context) ([]byte, error)
	// SubscribeJPEG delivers pictures at the MJPEG rate until cancel is
	// called or the source closes (the channel is then closed). A
	// subscriber whose buffer is full loses pictures; the source never
	// waits for it.
	SubscribeJPEG(buffer int) (frames <-chan []byte, cancel func(), err error)
}

// mediaRoutes registers the viewing endpoints for snapshots, MJPEG and the
// dashboard: mjpg-streamer's /?action=snapshot and /?action=stream,
// camera-streamer's /snapshot and /stream, /snapshot.jpg, and the
// dashboard at / (without action) with its assets under /dashboard/.
func (s *Server) mediaRoutes(r chi.Router) {
	m := &mediaHandlers{s: s}
	if src, ok := s.opts.Source.(JPEGSource); ok {
		m.jpeg = src
	}
	r.Get("/", m.onRoot)
	r.Get("/snapshot.jpg", m.onSnapshot)
	r.Get("/snapshot", m.onSnapshot)
	r.Get("/stream", m.onMJPEG)
	r.Get("/dashboard/*", m.onAsset)
}

// mediaHandlers serves snapshots, MJPEG and the dashboard.
type mediaHandlers struct {
	s *Server
	// jpeg is the VideoSource itself when it can make JPEG too (the graph
	// can): Options needs no second field for the same object.
	jpeg  JPEGSource
	mjpeg viewerCount
}

// onRoot is mjpg-streamer's one URL: ?action=snapshot or ?action=stream;
// without an action it is the dashboard. Other query parameters are
// ignored (Mainsail adds bypassCache=<ms>, Fluidd cacheBust=<ms>).
func (m *mediaHandlers) onRoot(w http.ResponseWriter, r *http.Request) {
	switch action := r.URL.Query().Get("action"); action {
	case "":
		m.onDashboard(w, r)
	case "snapshot":
		m.onSnapshot(w, r)
	case "stream":
		m.onMJPEG(w, r)
	default:
		if len(action) > 32 {
			action = action[:32] + "..."
		}
		m.s.reject(w, r, writeTextError, http.StatusBadRequest, "unknown action "+strconv.Quote(action)+": pipcam answers ?action=snapshot and ?action=stream")
	}
}

// jpegProblem answers when JPEG cannot be had and says whether it did.
func (m *mediaHandlers) jpegProblem(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case m.jpeg == nil || errors.Is(err, errors.ErrUnsupported):
		m.s.reject(w, r, writeTextError, http.StatusNotFound, "snapshots and MJPEG are turned off (jpeg.enabled: false in pipcam.yaml)")
	case err != nil:
		m.s.log.Warn("JPEG unavailable", "error", err)
		w.Header().Set("Retry-After", "1")
		writeTextError(w, http.StatusServiceUnavailable, "no picture available right now")
	default:
		return false
	}
	return true
}

// snapshotTimeout bounds the wait for a picture: a few frames normally.
const snapshotTimeout = 5 * time.Second

// onSnapshot answers one JPEG of the composite, never cached.
func (m *mediaHandlers) onSnapshot(w http.ResponseWriter, r *http.Request) {
	if m.jpegProblem(w, r, nil) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), snapshotTimeout)
	defer cancel()
	jpg, err := m.jpeg.Snapshot(ctx)
	if r.Context().Err() != nil {
		return // the client left; nobody to answer
	}
	if m.jpegProblem(w, r, err) {
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/jpeg")
	h.Set("Content-Length", strconv.Itoa(len(jpg)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(jpg)
}
