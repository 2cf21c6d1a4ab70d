package signaling

import (
	"encoding/json"
	"net/http"
	"strings"
)

func (s *Server) onLayoutGet(w http.ResponseWriter, _ *http.Request) {
	if s.opts.Layout == nil {
		writeJSONError(w, http.StatusNotImplemented, "layout control is not available")
		return
	}
	writeJSON(w, http.StatusOK, s.opts.Layout.Layout())
}

// onLayoutPut applies a layout change. Omitted fields keep their current
// values; unknown fields are refused; LayoutControl validates.
func (s *Server) onLayoutPut(w http.ResponseWriter, r *http.Request) {
	if s.opts.Layout == nil {
		writeJSONError(w, http.StatusNotImplemented, "layout control is not available")
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		s.writeBodyError(w, err, writeJSONError)
		return
	}
	l := s.opts.Layout.Layout()
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		writeJSONError(w, http.StatusBadRequest, "bad layout: "+err.Error())
		return
	}
	if dec.More() {
		writeJSONError(w, http.StatusBadRequest, "bad layout: data after the object")
		return
	}
	if err := s.opts.Layout.SetLayout(l); err != nil {
		writeJSONError(w, http.StatusBadRequest, "bad layout: "+err.Error())
		return
	}
	s.log.Info("layout changed", "remote", r.RemoteAddr, "mode", l.Mode, "main", l.Main, "inset", l.Inset)
	writeJSON(w, http.StatusOK, s.opts.Layout.Layout())
}
