package moonrakertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/pipcam/pipcam/internal/gcodeupload"
)

// API makes one request to Moonraker with the API key and returns the
// reply's "result"; a status other than 200 is an error carrying the reply.
func (s *Server) API(ctx context.Context, method, path string, query url.Values) (json.RawMessage, error) {
	u := s.URL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	return s.do(req)
}

func (s *Server) do(req *http.Request) (json.RawMessage, error) {
	req.Header.Set("X-Api-Key", s.APIKey)
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		return nil, fmt.Errorf("%s %s: HTTP %d: %s", req.Method, req.URL.Path, resp.StatusCode, bytes.TrimSpace(data))
	}
	var r struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	return r.Result, nil
}

// Upload stores G-code as name in Moonraker's gcodes root, and waits for
// Moonraker to have read its metadata (the slicer's estimate).
func (s *Server) Upload(ctx context.Context, name string, gcode []byte) error {
	req, err := gcodeupload.NewRequest(ctx, s.URL+"/server/files/upload", name, gcode)
	if err != nil {
		return err
	}
	if _, err := s.do(req); err != nil {
		return fmt.Errorf("upload %s: %w", name, err)
	}
	return s.poll(ctx, "metadata of "+name, func() (bool, string, error) {
		_, err := s.API(ctx, http.MethodGet, "/server/files/metadata", url.Values{"filename": {name}})
		if err != nil {
			return false, err.Error(), nil
		}
		return true, "", nil
	})
}

// Print starts printing an uploaded file.
func (s *Server) Print(ctx context.Context, name string) error {
	_, err := s.API(ctx, http.MethodPost, "/printer/print/start", url.Values{"filename": {name}})
	return err
}

// Pause pauses the running print.
func (s *Server) Pause(ctx context.Context) error {
	_, err := s.API(ctx, http.MethodPost, "/printer/print/pause", nil)
	return err
}

// Resume resumes a paused print.
func (s *Server) Resume(ctx context.Context) error {
	_, err := s.API(ctx, http.MethodPost, "/printer/print/resume", nil)
	return err
}

// Cancel cancels the running print.
func (s *Server) Cancel(ctx context.Context) error {
	_, err := s.API(ctx, http.MethodPost, "/printer/print/cancel", nil)
	return err
}

// Script runs G-code (as from Mainsail's console), e.g. "M117 Hello".
func (s *Server) Script(ctx context.Context, gcode string) error {
	_, err := s.API(ctx, http.MethodPost, "/printer/gcode/script", url.Values{"script": {gcode}})
	return err
}

// State is the part of the printer's state tests look at.
type State struct {
	Klippy   string  // webhooks.state: startup, ready, shutdown, error
	Print    string  // print_stats.state: standby, printing, paused, complete, cancelled, error
	File     string  // print_stats.filename
	Progress float64 // virtual_sdcard.progress, 0-1
}

// State reads the printer's state through Moonraker.
func (s *Server) State(ctx context.Context) (State, error) {
	res, err := s.API(ctx, http.MethodGet, "/printer/objects/query?webhooks=state&print_stats=state,filename&virtual_sdcard=progress", nil)
	if err != nil {
		return State{}, err
	}
	var r struct {
		Status struct {
			Webhooks struct {
				State string `json:"state"`
			} `json:"webhooks"`
			PrintStats struct {
				State    string `json:"state"`
				Filename string `json:"filename"`
			} `json:"print_stats"`
			SDCard struct {
				Progress float64 `json:"progress"`
			} `json:"virtual_sdcard"`
		} `json:"status"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return State{}, fmt.Errorf("objects/query: %w", err)
	}
	st := r.Status
	return State{Klippy: st.Webhooks.State, Print: st.PrintStats.State, File: st.PrintStats.Filename, Progress: st.SDCard.Progress}, nil
}

// WaitPrint waits until print_stats.state is one of states.
func (s *Server) WaitPrint(ctx context.Context, states ...string) (State, error) {
	var st State
	err := s.poll(ctx, fmt.Sprintf("print state %q", states), func() (bool, string, error) {
		var err error
		if st, err = s.State(ctx); err != nil {
			return false, err.Error(), nil
		}
		return slices.Contains(states, st.Print), st.Print, nil
	})
	return st, err
}

// WaitKlippy waits until Moonraker reports Klippy's state as state
// (server.info's klippy_state: disconnected, startup, ready, shutdown,
// error).
func (s *Server) WaitKlippy(ctx context.Context, state string) error {
	return s.poll(ctx, "Klippy "+state, func() (bool, string, error) {
		res, err := s.API(ctx, http.MethodGet, "/server/info", nil)
		if err != nil {
			return false, err.Error(), nil
		}
		var info struct {
			State string `json:"klippy_state"`
		}
		if err := json.Unmarshal(res, &info); err != nil {
			return false, "", err
		}
		return info.State == state, info.State, nil
	})
}

// Overheat holds the extruder's sensor above its limit, which shuts Klippy
// down (a print under way fails), and waits for the shutdown.
func (s *Server) Overheat(ctx context.Context) error {
	hot := float64(MaxExtruderTemp + 20)
	if err := s.thermal.pin("extruder", &hot); err != nil {
		return err
	}
	return s.WaitKlippy(ctx, "shutdown")
}

// FirmwareRestart lets the sensors follow the model again and restarts
// Klippy (FIRMWARE_RESTART), waiting until it is ready.
func (s *Server) FirmwareRestart(ctx context.Context) error {
	if err := s.thermal.pin("extruder", nil); err != nil {
		return err
	}
	// Klippy samples once a second: the sane reading must be in first, or
	// the restarted Klippy shuts down again at once.
	if err := s.poll(ctx, "a sane extruder reading", func() (bool, string, error) {
		res, err := s.API(ctx, http.MethodGet, "/printer/objects/query?extruder=temperature", nil)
		if err != nil {
			return false, err.Error(), nil
		}
		var r struct {
			Status struct {
				Extruder struct {
					Temperature float64 `json:"temperature"`
				} `json:"extruder"`
			} `json:"status"`
		}
		if err := json.Unmarshal(res, &r); err != nil {
			return false, "", err
		}
		t := r.Status.Extruder.Temperature
		return t < MaxExtruderTemp, fmt.Sprint(t), nil
	}); err != nil {
		return err
	}
	if _, err := s.API(ctx, http.MethodPost, "/printer/firmware_restart", nil); err != nil {
		return err
	}
	return s.WaitKlippy(ctx, "ready")
}

// Cool turns the heaters off and puts them at room temperature at once
// (no waiting for them to cool), and waits for Klippy to have read that,
// so the next print heats up from cold.
func (s *Server) Cool(ctx context.Context) error {
	if err := s.Script(ctx, "TURN_OFF_HEATERS"); err != nil {
		return err
	}
	s.thermal.cool()
	return s.poll(ctx, "cold heaters", func() (bool, string, error) {
		res, err := s.API(ctx, http.MethodGet, "/printer/objects/query?extruder=temperature&heater_bed=temperature", nil)
		if err != nil {
			return false, err.Error(), nil
		}
		var r struct {
			Status map[string]struct {
				Temperature float64 `json:"temperature"`
			} `json:"status"`
		}
		if err := json.Unmarshal(res, &r); err != nil {
			return false, "", err
		}
		cold := true
		for _, h := range r.Status {
			cold = cold && h.Temperature < ambient+5
		}
		return cold, fmt.Sprint(r.Status), nil
	})
}

// Temp is the thermal model's temperature of a heater (extruder,
// heater_bed) now, °C.
func (s *Server) Temp(heater string) float64 { return s.thermal.temp(heater) }

// poll calls check every 50 ms until it says done, fails, or ctx ends;
// last says what it saw, for the error.
func (s *Server) poll(ctx context.Context, what string, check func() (done bool, last string, err error)) error {
	last := ""
	for {
		done, seen, err := check()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if done {
			return nil
		}
		if seen != "" {
			last = seen
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s (last: %s): %w", what, last, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
