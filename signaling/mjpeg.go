package signaling

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"time"
)

const (
	// mjpegBoundary is mjpg-streamer's; some clients never read the header.
	mjpegBoundary = "boundarydonotcross"
	// mjpegQueue is each viewer's queue in pictures: a viewer that falls
	// further behind loses pictures, the graph and other viewers never wait.
	mjpegQueue = 2
	// mjpegWriteTimeout drops a viewer whose connection takes no picture
	// for this long (it stopped reading, or its link is gone).
	mjpegWriteTimeout = 5 * time.Second
)

// viewerCount caps concurrent MJPEG viewers.
type viewerCount struct{ n atomic.Int64 }

func (c *viewerCount) enter(limit int) bool {
	if c.n.Add(1) > int64(limit) {
		c.n.Add(-1)
		return false
	}
	return true
}

func (c *viewerCount) leave() { c.n.Add(-1) }

// onMJPEG streams the composite as multipart/x-mixed-replace JPEG, the way
// mjpg-streamer does, at the MJPEG rate, until the client leaves or stops
// taking pictures.
func (m *mediaHandlers) onMJPEG(w http.ResponseWriter, r *http.Request) {
	if m.jpegProblem(w, r, nil) {
		return
	}
	if !m.mjpeg.enter(m.s.opts.MaxViewers) {
		w.Header().Set("Retry-After", "5")
		m.s.reject(w, r, writeTextError, http.StatusServiceUnavailable, "too many MJPEG viewers; WebRTC (/whep) has room")
		return
	}
	defer m.mjpeg.leave()
	frames, cancel, err := m.jpeg.SubscribeJPEG(mjpegQueue)
	if m.jpegProblem(w, r, err) {
		return
	}
	defer cancel()

	h := w.Header()
	h.Set("Content-Type", "multipart/x-mixed-replace;boundary="+mjpegBoundary)
	h.Set("Cache-Control", "no-store, no-cache, must-revalidate, max-age=0")
	h.Set("Pragma", "no-cache")
	rc := http.NewResponseController(w)
	// The stream lasts as long as the client watches: no server read
	// deadline (when it passed, net/http would cancel the request); writes
	// get a deadline per picture below.
	_ = rc.SetReadDeadline(time.Time{})
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}
	log := m.s.log.With("remote", r.RemoteAddr)
	log.Debug("MJPEG viewer joined")
	for {
		select {
		case <-r.Context().Done():
			log.Debug("MJPEG viewer left")
			return
		case <-m.s.ctx.Done():
			return
		case jpg, ok := <-frames:
			if !ok {
				return // the graph is closing
			}
			// Each picture gets its own deadline: this lifts any server
			// write timeout for the stream and drops a stuck client.
			_ = rc.SetWriteDeadline(time.Now().Add(mjpegWriteTimeout))
			if err := writePart(w, jpg); err != nil {
				log.Info("MJPEG viewer dropped: it stopped taking pictures", "error", err)
				return
			}
			if err := rc.Flush(); err != nil {
				log.Info("MJPEG viewer dropped: it stopped taking pictures", "error", err)
				return
			}
		}
	}
}

// writePart writes one picture as mjpg-streamer frames it.
func writePart(w http.ResponseWriter, jpg []byte) error {
	now := time.Now()
	if _, err := fmt.Fprintf(w, "--%s\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\nX-Timestamp: %d.%06d\r\n\r\n",
		mjpegBoundary, len(jpg), now.Unix(), now.Nanosecond()/1000); err != nil {
		return err
	}
	if _, err := w.Write(jpg); err != nil {
		return err
	}
	_, err := w.Write([]byte("\r\n"))
	return err
}
