package signaling

import (
	"bytes"
	"encoding/json"
	"net/http"
)

func (s *Server) onLayoutGet(w http.ResponseWriter, r *http.Request) {
	if s.opts.Layout == nil {
		s.reject(w, r, writeJSONError, http.StatusNotImplemented, "layout control is not available")
		return
	}
	writeJSON(w, http.StatusOK, s.opts.Layout.Layout())
}

// onLayoutPut applies a layout change. Omitted fields keep their current
// values; unknown fields are refused; LayoutControl validates. The
// read-merge-apply is serialised, so concurrent partial PUTs do not undo
// each other, and the reply is what LayoutControl reports as applied.
func (s *Server) onLayoutPut(w http.ResponseWriter, r *http.Request) {
	if s.opts.Layout == nil {
		s.reject(w, r, writeJSONError, http.StatusNotImplemented, "layout control is not available")
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		s.rejectBody(w, r, writeJSONError, err)
		return
	}
	s.layoutMu.Lock()
	defer s.layoutMu.Unlock()
	l := s.opts.Layout.Layout()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		s.reject(w, r, writeJSONError, http.StatusBadRequest, "bad layout: "+err.Error())
		return
	}
	if dec.More() {
		s.reject(w, r, writeJSONError, http.StatusBadRequest, "bad layout: data after the object")
		return
	}
	if err := s.opts.Layout.SetLayout(l); err != nil {
		s.reject(w, r, writeJSONError, http.StatusBadRequest, "bad layout: "+err.Error())
		return
	}
	applied := s.opts.Layout.Layout()
	s.log.Info("layout changed", "client", clientAddr(r), "mode", applied.Mode, "main", applied.Main, "inset", applied.Inset)
	writeJSON(w, http.StatusOK, applied)
}
