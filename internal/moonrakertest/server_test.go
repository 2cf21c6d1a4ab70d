package moonrakertest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// The harness against itself: Klippy heats, prints GCode to the end at
// about its StepTime, pauses, resumes and cancels; an overheated sensor
// shuts Klippy down and FIRMWARE_RESTART brings it back; a killed
// Moonraker comes back with the same key; with RequireAPIKey a request
// without the key is refused.
func TestServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Klipper and Moonraker")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	s, err := Start(ctx, Options{RequireAPIKey: true})
	if errors.Is(err, ErrNoKlipper) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("set-up (build cached or not) took %v", time.Since(start).Round(time.Millisecond))
	defer func() {
		if t.Failed() {
			t.Logf("logs:\n%s", s.LogTail(3000))
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}()

	key := s.APIKey
	s.APIKey = "wrong"
	if _, err := s.State(ctx); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Errorf("a wrong key: %v, want HTTP 401", err)
	}
	s.APIKey = key

	const steps = 60
	if err := s.Upload(ctx, "short.gcode", GCode(steps*StepTime)); err != nil {
		t.Fatal(err)
	}
	if err := s.Print(ctx, "short.gcode"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WaitPrint(ctx, "printing"); err != nil {
		t.Fatal(err)
	}
	heated := waitTemp(t, ctx, s, "extruder", ExtruderTarget)
	began := time.Now()
	if _, err := s.WaitPrint(ctx, "complete"); err != nil {
		t.Fatal(err)
	}
	took := time.Since(began)
	t.Logf("heating took %v; %d steps took %v (%v a step, StepTime %v)", heated.Round(time.Millisecond), steps,
		took.Round(time.Millisecond), (took / steps).Round(time.Millisecond), StepTime)
	if per := took / steps; per < StepTime*7/10 || per > StepTime*14/10 {
		t.Errorf("a step takes %v; StepTime says %v", per, StepTime)
	}

	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	changes, err := s.WatchPrint(wctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Print(ctx, "short.gcode"); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		do   func(context.Context) error
		want string
	}{{s.Pause, "paused"}, {s.Resume, "printing"}, {s.Cancel, "cancelled"}} {
		if _, err := s.WaitPrint(ctx, "printing", "paused"); err != nil {
			t.Fatal(err)
		}
		if err := step.do(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := s.WaitPrint(ctx, step.want); err != nil {
			t.Fatal(err)
		}
	}

	var seen []string
	for c := range changes {
		seen = append(seen, c.State)
		if c.State == "cancelled" {
			break
		}
	}
	if got := strings.Join(seen, " "); got != "complete printing paused printing cancelled" {
		t.Errorf("WatchPrint saw %q", got)
	}
	stopWatch()

	if err := s.Overheat(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.FirmwareRestart(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.KillMoonraker(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.State(ctx); err == nil {
		t.Fatal("Moonraker answers after the kill")
	}
	if err := s.StartMoonraker(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := s.State(ctx); err != nil || st.Klippy != "ready" {
		t.Fatalf("after the restart: %+v, %v", st, err)
	}
}

// waitTemp waits until the model's heater reaches target and returns how
// long that took.
func waitTemp(t *testing.T, ctx context.Context, s *Server, heater string, target float64) time.Duration {
	t.Helper()
	start := time.Now()
	for s.Temp(heater) < target {
		select {
		case <-ctx.Done():
			t.Fatalf("%s at %.0f°C, never reached %.0f°C", heater, s.Temp(heater), target)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return time.Since(start)
}
