package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pipcam/pipcam/internal/octoprinttest"
	"github.com/pipcam/pipcam/internal/rtmptest"
)

// runOutputs measures what the outputs cost the daemon: its CPU while it
// pushes to an nginx-rtmp on loopback (with the silent AAC track, the
// default) and records the print under way, against the same daemon with
// neither. OctoPrint's virtual printer prints throughout, so the overlay
// follows a print in both. Rounds alternate (CPU on a shared machine
// drifts by points from window to window). Nothing is encoded twice: the
// difference is the muxing, the RTMP client, the file writes and the
// silent audio's encode.
func runOutputs(bin string, rounds int, window time.Duration, sb *scoreboard) error {
	dir, err := os.MkdirTemp("", "pipcam-bench-outputs")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	nginxDir := filepath.Join(dir, "nginx")
	if err := os.Mkdir(nginxDir, 0o755); err != nil {
		return err
	}
	srv, err := rtmptest.Start(nginxDir)
	if err != nil {
		return err
	}
	defer srv.Close()
	ctx := context.Background()
	op, err := octoprinttest.Start(ctx, octoprinttest.Options{})
	if err != nil {
		return err
	}
	defer op.Close()
	if err := op.Connect(ctx); err != nil {
		return err
	}
	if err := op.Upload(ctx, "bench.gcode", octoprinttest.GCode(3*time.Hour)); err != nil {
		return err
	}
	if err := op.Print(ctx, "bench.gcode"); err != nil {
		return err
	}
	printer := fmt.Sprintf("printer:\n  type: octoprint\n  url: %q\n  api_key: %q\n", op.URL, op.APIKey)
	push := func(audio string) string {
		return fmt.Sprintf("push:\n  destinations:\n    - name: nginx\n      url: %q\n      key: bench\n      audio: %s\n", srv.URL, audio)
	}
	record := fmt.Sprintf("recording:\n  enabled: true\n  dir: %q\n", filepath.Join(dir, "recordings"))

	// cpu runs the daemon with extraYAML and returns its CPU over the
	// window, once ready says it is doing what is measured.
	cpu := func(extraYAML string, ready func(st outputsStatus) bool) (float64, error) {
		d, err := startDaemon(bin, daemonOpts{yaml: extraYAML})
		if err != nil {
			return 0, err
		}
		defer d.stop()
		if _, err := waitStatus(d.base(), 30*time.Second, ready); err != nil {
			return 0, fmt.Errorf("daemon: %w", err)
		}
		time.Sleep(3 * time.Second) // encoder, muxers and connection settle
		return measure(d.pid(), window, nil).cpu, nil
	}
	printing := func(st outputsStatus) bool { return st.Overlay.Printer.State == "printing" }
	pushing := func(st outputsStatus) bool { return printing(st) && len(st.Push) == 1 && st.Push[0].State == "live" }
	recording := func(st outputsStatus) bool { return printing(st) && st.Recording.State == "recording" }
	variants := []struct {
		name, yaml string
		ready      func(outputsStatus) bool
	}{
		{"push, video only", push("none"), pushing},
		{"push + silent AAC (the default)", push("silent"), pushing},
		{"recording", record, recording},
		{"push + silent AAC and recording", push("silent") + record, func(st outputsStatus) bool { return pushing(st) && recording(st) }},
	}
	fmt.Fprintf(progress, "outputs: daemon CPU at the defaults (640x480@15, 400 kbit/s, x264enc ultrafast) during a print, no viewer, %d rounds of %s\n", rounds, window)
	base := make([]float64, rounds)
	with := make([][]float64, len(variants))
	for r := range rounds {
		var err error
		if base[r], err = cpu(printer, printing); err != nil {
			return err
		}
		line := fmt.Sprintf("  round %d: neither %5.1f %%", r+1, base[r])
		for i, v := range variants {
			c, err := cpu(printer+v.yaml, v.ready)
			if err != nil {
				return fmt.Errorf("%s: %w", v.name, err)
			}
			with[i] = append(with[i], c)
			line += fmt.Sprintf(", %s %5.1f %%", v.name, c)
		}
		fmt.Fprintln(progress, line+" of one core")
	}
	for i, v := range variants {
		report(sb, "outputs", v.name+" vs neither (daemon CPU during a print)", base, with[i])
	}
	return nil
}

// outputsStatus is the part of /api/status runOutputs waits on.
type outputsStatus struct {
	Overlay struct {
		Printer struct {
			State string `json:"state"`
		} `json:"printer"`
	} `json:"overlay"`
	Push []struct {
		State string `json:"state"`
	} `json:"push"`
	Recording struct {
		State string `json:"state"`
	} `json:"recording"`
}
