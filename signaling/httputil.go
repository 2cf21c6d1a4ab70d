package signaling

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// errBodyTooLarge reports a body beyond maxBodyBytes.
var errBodyTooLarge = fmt.Errorf("body larger than %d bytes", maxBodyBytes)

// readBody reads at most maxBodyBytes of the request body.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errBodyTooLarge
		}
		return nil, fmt.Errorf("read body: %w", err)
	}
	return b, nil
}

// hasMediaType reports whether the request's Content-Type is want
// (parameters such as charset are ignored).
func hasMediaType(r *http.Request, want string) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && strings.EqualFold(mt, want)
}

// errorFormat writes an error reply in an endpoint's own format: plain
// text for WHEP, JSON for /webrtc and the API.
type errorFormat func(w http.ResponseWriter, status int, msg string)

// decodeObject decodes body as one JSON value into v; strict refuses
// fields v does not have. Anything after the value is an error.
func decodeObject(body []byte, v any, strict bool) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the object")
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeTextError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}

// reject answers a request the server will not serve (4xx, or 503 when
// full) with the reason, and logs it with the client's address
// (rate-limited).
func (s *Server) reject(w http.ResponseWriter, r *http.Request, format errorFormat, status int, msg string) {
	s.rejects.add(status, msg, clientAddr(r), r.Method, r.URL.Path)
	format(w, status, msg)
}

// fail answers an internal error: the detail goes to the log, the client
// gets "internal error". A client that left meanwhile is not an error:
// nobody is there to answer.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, format errorFormat, what string, err error) {
	if r.Context().Err() != nil {
		s.log.Debug("client left before the reply", "what", what, "client", clientAddr(r), "err", err)
		return
	}
	s.log.Error(what, "err", err, "client", clientAddr(r), "method", r.Method, "path", r.URL.Path)
	format(w, http.StatusInternalServerError, "internal error")
}

// rejectBody answers a body that could not be read.
func (s *Server) rejectBody(w http.ResponseWriter, r *http.Request, format errorFormat, err error) {
	if errors.Is(err, errBodyTooLarge) {
		s.reject(w, r, format, http.StatusRequestEntityTooLarge, err.Error())
		return
	}
	s.reject(w, r, format, http.StatusBadRequest, "cannot read the request body")
}
