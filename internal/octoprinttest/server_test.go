package octoprinttest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The harness against itself: the user logs in with its password, the
// virtual printer connects and prints GCode to the end, and a killed
// server comes back with the same key.
func TestServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real OctoPrint")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			t.Logf("OctoPrint console:\n%s", s.LogTail(4000))
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}()

	login := func(pass string) error {
		_, err := s.call(ctx, http.MethodPost, "/api/login", map[string]any{"user": s.User, "pass": pass}, http.StatusOK)
		return err
	}
	if err := login(s.Password); err != nil {
		t.Errorf("password login: %v", err)
	}
	if err := login("wrong"); err == nil {
		t.Error("a wrong password logged in")
	}

	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Upload(ctx, "short.gcode", GCode(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.Print(ctx, "short.gcode"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WaitState(ctx, "Printing"); err != nil {
		t.Fatal(err)
	}
	done, stop := context.WithTimeout(ctx, 30*time.Second)
	defer stop()
	if _, err := s.WaitState(done, "Operational"); err != nil {
		t.Fatal(err)
	}
	j, err := s.Job(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if j.File != "short.gcode" || j.Completion == nil || *j.Completion != 100 {
		t.Errorf("after the print: %+v", j)
	}

	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Job(ctx); err == nil {
		t.Fatal("the API answers after Kill")
	}
	if err := s.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if j, err := s.Job(ctx); err != nil || j.State != "Offline" {
		t.Errorf("after restart: %+v, %v", j, err)
	}
}

// Without Python the install fails and names what to install.
func TestInstallNamesMissingPython(t *testing.T) {
	t.Setenv("OCTOPRINT_VENV", t.TempDir()+"/venv")
	t.Setenv("PYTHON", "python3-not-installed")
	_, err := Install(context.Background())
	if err == nil || !strings.Contains(err.Error(), "python3 not installed: run make deps") {
		t.Errorf("got %v", err)
	}
}
