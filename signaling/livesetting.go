package signaling

import (
	"net/http"
	"sync"
)

// liveSetting is one part of the picture that a control endpoint changes
// while playing (the layout, the overlay's look): GET reports it; PUT
// merges a partial JSON object into the current value (omitted fields keep
// theirs, unknown fields are refused), applies it and answers with what
// was applied. The read-merge-apply is serialised, so concurrent partial
// PUTs do not undo each other.
type liveSetting[T any] struct {
	what string // "layout", "overlay style": for messages and the log
	get  func() T
	set  func(T) error
	mu   sync.Mutex
}

func newLiveSetting[T any](what string, get func() T, set func(T) error) *liveSetting[T] {
	return &liveSetting[T]{what: what, get: get, set: set}
}

func (ls *liveSetting[T]) onGet(s *Server) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ls == nil {
			s.reject(w, r, writeJSONError, http.StatusNotImplemented, "control is not available")
			return
		}
		writeJSON(w, http.StatusOK, ls.get())
	}
}

func (ls *liveSetting[T]) onPut(s *Server) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ls == nil {
			s.reject(w, r, writeJSONError, http.StatusNotImplemented, "control is not available")
			return
		}
		body, err := readBody(w, r)
		if err != nil {
			s.rejectBody(w, r, writeJSONError, err)
			return
		}
		ls.mu.Lock()
		defer ls.mu.Unlock()
		v := ls.get()
		if err := decodeObject(body, &v, true); err != nil {
			s.reject(w, r, writeJSONError, http.StatusBadRequest, "bad "+ls.what+": "+err.Error())
			return
		}
		if err := ls.set(v); err != nil {
			s.reject(w, r, writeJSONError, http.StatusBadRequest, "bad "+ls.what+": "+err.Error())
			return
		}
		applied := ls.get()
		s.log.Info(ls.what+" changed", "client", clientAddr(r), "now", applied)
		writeJSON(w, http.StatusOK, applied)
	}
}
