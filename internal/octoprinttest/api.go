package octoprinttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/pipcam/pipcam/internal/gcodeupload"
)

// API makes one request to OctoPrint's API with the admin's key (body,
// if not nil, as JSON) and returns the reply's body; a status other than
// want is an error carrying OctoPrint's reply.
func (s *Server) API(ctx context.Context, method, path string, body any, want int) ([]byte, error) {
	return s.call(ctx, method, path, body, want)
}

// call makes one API request with the key and wants the given status.
func (s *Server) call(ctx context.Context, method, path string, body any, want int) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, rd)
	if err != nil {
		return nil, err
	}
	return s.do(req, body != nil, want)
}

func (s *Server) do(req *http.Request, isJSON bool, want int) ([]byte, error) {
	req.Header.Set("X-Api-Key", s.APIKey)
	if isJSON {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s: HTTP %d (want %d): %s", req.Method, req.URL.Path, resp.StatusCode, want, bytes.TrimSpace(data))
	}
	return data, nil
}

// Connect connects the virtual printer and waits until it is Operational.
func (s *Server) Connect(ctx context.Context) error {
	_, err := s.call(ctx, http.MethodPost, "/api/connection",
		map[string]any{"command": "connect", "port": "VIRTUAL", "baudrate": 115200}, http.StatusNoContent)
	if err != nil {
		return fmt.Errorf("connect the virtual printer: %w", err)
	}
	_, err = s.WaitState(ctx, "Operational")
	return err
}

// Upload stores G-code as name in OctoPrint's local storage.
func (s *Server) Upload(ctx context.Context, name string, gcode []byte) error {
	req, err := gcodeupload.NewRequest(ctx, s.URL+"/api/files/local", name, gcode)
	if err != nil {
		return err
	}
	if _, err := s.do(req, false, http.StatusCreated); err != nil {
		return fmt.Errorf("upload %s: %w", name, err)
	}
	return nil
}

// Print selects an uploaded file and starts printing it.
func (s *Server) Print(ctx context.Context, name string) error {
	_, err := s.call(ctx, http.MethodPost, "/api/files/local/"+url.PathEscape(name),
		map[string]any{"command": "select", "print": true}, http.StatusNoContent)
	if err != nil {
		return fmt.Errorf("print %s: %w", name, err)
	}
	return nil
}

// Pause pauses the running print.
func (s *Server) Pause(ctx context.Context) error { return s.job(ctx, "pause", "pause") }

// Resume resumes a paused print.
func (s *Server) Resume(ctx context.Context) error { return s.job(ctx, "pause", "resume") }

// Cancel cancels the running print.
func (s *Server) Cancel(ctx context.Context) error { return s.job(ctx, "cancel", "") }

func (s *Server) job(ctx context.Context, command, action string) error {
	body := map[string]any{"command": command}
	if action != "" {
		body["action"] = action
	}
	if _, err := s.call(ctx, http.MethodPost, "/api/job", body, http.StatusNoContent); err != nil {
		return fmt.Errorf("%s %s: %w", command, action, err)
	}
	return nil
}

// Job is the part of GET /api/job tests look at.
type Job struct {
	State      string   // OctoPrint's state text: "Operational", "Printing", ...
	File       string   // "" when none is selected
	Completion *float64 // percent
}

// Job reads GET /api/job.
func (s *Server) Job(ctx context.Context) (Job, error) {
	data, err := s.call(ctx, http.MethodGet, "/api/job", nil, http.StatusOK)
	if err != nil {
		return Job{}, err
	}
	var r struct {
		State string `json:"state"`
		Job   struct {
			File struct {
				Name string `json:"name"`
			} `json:"file"`
		} `json:"job"`
		Progress struct {
			Completion *float64 `json:"completion"`
		} `json:"progress"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return Job{}, fmt.Errorf("/api/job: %w", err)
	}
	return Job{State: r.State, File: r.Job.File.Name, Completion: r.Progress.Completion}, nil
}

// WaitState polls the job state until it is one of states, and returns it.
func (s *Server) WaitState(ctx context.Context, states ...string) (string, error) {
	last := ""
	for {
		if j, err := s.Job(ctx); err == nil {
			last = j.State
			for _, want := range states {
				if j.State == want {
					return j.State, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("OctoPrint state is %q, want one of %q: %w", last, states, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
