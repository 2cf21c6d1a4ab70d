package signaling

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
)

// PushControl is the push to RTMP servers (the compositor's Pusher).
type PushControl interface {
	// SetPush starts (on) or stops pushing to the named destination. An
	// error wrapping fs.ErrNotExist: no destination has that name.
	SetPush(name string, on bool) error
	// Status reports every destination, encoded as JSON as it is.
	Status() any
}

// RecordingStore is the print recordings on disk (package recordings).
type RecordingStore interface {
	// List reports the recordings, newest first, encoded as JSON as it is.
	List() (any, error)
	// Open opens one for reading. Errors wrap fs.ErrInvalid (not a
	// recording's name) or fs.ErrNotExist.
	Open(name string) (*os.File, error)
	// Delete removes one; as Open, and fs.ErrPermission for the one
	// being recorded.
	Delete(name string) error
}

// downloadStall drops a download whose client took nothing for this long;
// a slow one goes on as long as it takes (a print's recording is big).
const downloadStall = 30 * time.Second

// outputViewing: the push's state and the recordings, for anyone who may
// watch.
func (s *Server) outputViewing(r chi.Router) {
	r.Get("/api/push", s.onPushGet)
	r.Get("/api/recordings", s.onRecordings)
	r.Get("/recordings/{name}", s.onRecording)
}

// outputControl: starting and stopping a push, deleting a recording.
func (s *Server) outputControl(r chi.Router) {
	r.Put("/api/push/{name}", s.onPushPut)
	r.Delete("/api/recordings/{name}", s.onRecordingDelete)
}

func (s *Server) onPushGet(w http.ResponseWriter, r *http.Request) {
	if s.opts.Push == nil {
		s.reject(w, r, writeJSONError, http.StatusNotImplemented, "push is not available")
		return
	}
	writeJSON(w, http.StatusOK, s.opts.Push.Status())
}

// onPushPut takes {"enabled": true|false} and answers every destination.
func (s *Server) onPushPut(w http.ResponseWriter, r *http.Request) {
	if s.opts.Push == nil {
		s.reject(w, r, writeJSONError, http.StatusNotImplemented, "push is not available")
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		s.rejectBody(w, r, writeJSONError, err)
		return
	}
	var req struct {
		Enabled *bool `json:"enabled"`
	}
	if err := decodeObject(body, &req, true); err != nil || req.Enabled == nil {
		s.reject(w, r, writeJSONError, http.StatusBadRequest, `want {"enabled": true} or {"enabled": false}`)
		return
	}
	name := chi.URLParam(r, "name")
	if err := s.opts.Push.SetPush(name, *req.Enabled); errors.Is(err, fs.ErrNotExist) {
		s.reject(w, r, writeJSONError, http.StatusNotFound, "no push destination "+strconv.Quote(name)+" in pipcam.yaml")
		return
	} else if err != nil {
		s.fail(w, r, writeJSONError, "set push", err)
		return
	}
	s.log.Info("push changed", "destination", name, "enabled", *req.Enabled, "client", clientAddr(r))
	writeJSON(w, http.StatusOK, s.opts.Push.Status())
}

func (s *Server) onRecordings(w http.ResponseWriter, r *http.Request) {
	if s.recordingsOff(w, r) {
		return
	}
	list, err := s.opts.Recordings.List()
	if err != nil {
		s.fail(w, r, writeJSONError, "list recordings", err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

// onRecording sends one recording (ranges too, so players can seek).
func (s *Server) onRecording(w http.ResponseWriter, r *http.Request) {
	if s.recordingsOff(w, r) {
		return
	}
	name := chi.URLParam(r, "name")
	f, err := s.opts.Recordings.Open(name)
	if s.recordingProblem(w, r, writeTextError, name, err) {
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		s.fail(w, r, writeTextError, "stat recording", err)
		return
	}
	if err := KeepStreaming(w); err != nil {
		s.fail(w, r, writeTextError, "download recording", err)
		return
	}
	w.Header().Set("Content-Type", "video/mp4")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`) // names are [A-Za-z0-9._-]
	http.ServeContent(progressWriter{w, http.NewResponseController(w)}, r, name, fi.ModTime(), f)
}

func (s *Server) onRecordingDelete(w http.ResponseWriter, r *http.Request) {
	if s.recordingsOff(w, r) {
		return
	}
	name := chi.URLParam(r, "name")
	if s.recordingProblem(w, r, writeJSONError, name, s.opts.Recordings.Delete(name)) {
		return
	}
	s.log.Info("recording deleted", "file", name, "client", clientAddr(r))
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) recordingsOff(w http.ResponseWriter, r *http.Request) bool {
	if s.opts.Recordings != nil {
		return false
	}
	s.reject(w, r, writeJSONError, http.StatusNotFound, "recording is turned off (recording.enabled in pipcam.yaml)")
	return true
}

// recordingProblem answers a recording that cannot be had and says
// whether it did.
func (s *Server) recordingProblem(w http.ResponseWriter, r *http.Request, format errorFormat, name string, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, fs.ErrInvalid):
		s.reject(w, r, format, http.StatusBadRequest, "not a recording's name")
	case errors.Is(err, fs.ErrNotExist):
		s.reject(w, r, format, http.StatusNotFound, "no recording "+strconv.Quote(name))
	case errors.Is(err, fs.ErrPermission):
		s.reject(w, r, format, http.StatusConflict, "the print is still being recorded")
	default:
		s.fail(w, r, format, "recording", err)
	}
	return true
}

// progressWriter gives each write of a download its own deadline: a
// client that keeps taking data keeps its download, one that stops is
// dropped.
type progressWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
}

func (p progressWriter) Write(b []byte) (int, error) {
	_ = p.rc.SetWriteDeadline(time.Now().Add(downloadStall))
	return p.ResponseWriter.Write(b)
}
