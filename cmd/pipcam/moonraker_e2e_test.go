package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pipcam/pipcam/configs"
	"github.com/pipcam/pipcam/internal/moonrakertest"
	"github.com/pipcam/pipcam/internal/viewer"
)

// A Klipper printer's status is in the picture: a real Klippy prints
// behind a real Moonraker (which wants the API key), and tesseract reads
// the overlay back out of frames a WebRTC viewer received and decoded:
// Standby, Heating, Printing with a rising %, Paused, Printing, Complete;
// a second print Cancelled; an overheated extruder's Klippy shutdown, and
// Standby after FIRMWARE_RESTART; Moonraker killed: "Moonraker offline"
// within 3 s while frames keep flowing, and recovery when it is back.
func TestMoonrakerStatusIsReadableInThePicture(t *testing.T) {
	if testing.Short() {
		t.Skip("real Klipper and Moonraker, tesseract: not in -short")
	}
	if _, err := exec.LookPath("tesseract"); err != nil {
		t.Fatal("tesseract not installed (apt install tesseract-ocr): run make deps")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// Slow heating: the Heating phase lasts long enough to be read.
	mr, err := moonrakertest.Start(ctx, moonrakertest.Options{RequireAPIKey: true, ExtruderHeatRate: 15})
	if errors.Is(err, moonrakertest.ErrNoKlipper) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Klipper and Moonraker logs:\n%s", mr.LogTail(2000))
		}
		mr.Close()
	})
	if err := mr.Upload(ctx, "benchy.gcode", moonrakertest.GCode(30*time.Second)); err != nil {
		t.Fatal(err)
	}

	favourDaemon(t)
	cfg := testConfig()
	cfg.Output = configs.Output{Width: 640, Height: 480, Framerate: 15}
	cfg.Printer = configs.Printer{Type: configs.PrinterMoonraker, URL: mr.URL, APIKey: configs.Secret(mr.APIKey), Transport: configs.TransportAuto}
	d := startTestDaemon(t, cfg)
	base := "http://" + d.HTTPAddr()
	var gaps gapMeter
	v := watchWith(t, base, viewer.Options{Logger: quietLogger(), OnAU: gaps.observe})
	read := func(want string) string { return readBack(t, base, v, want) }
	printingAt := func(pct float64) {
		t.Helper()
		waitOverlay(t, base, fmt.Sprintf("printing at %.0f %% or more", pct*100), func(o overlayStatus) bool {
			return strings.HasPrefix(o.Text, "Printing") && o.Progress >= pct
		})
	}

	read("Standby")
	if err := mr.Print(ctx, "benchy.gcode"); err != nil {
		t.Fatal(err)
	}
	read("Heating")
	printingAt(0.1)
	first, _ := percentOf(read("Printing"))
	printingAt(0.4)
	second, _ := percentOf(read("Printing"))
	if second <= first {
		t.Errorf("the picture's progress went from %d%% to %d%%; want it rising", first, second)
	}
	if err := mr.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	read("Paused")
	if err := mr.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	read("Printing")
	if _, err := mr.WaitPrint(ctx, "complete"); err != nil {
		t.Fatal(err)
	}
	read("Complete")

	if err := mr.Print(ctx, "benchy.gcode"); err != nil {
		t.Fatal(err)
	}
	printingAt(0.05)
	if err := mr.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	read("Cancelled")

	// The extruder's sensor beyond its limit: Klippy shuts down and the
	// picture says so; FIRMWARE_RESTART brings it back.
	if err := mr.Overheat(ctx); err != nil {
		t.Fatal(err)
	}
	read("Klippy shutdown")
	if err := mr.FirmwareRestart(ctx); err != nil {
		t.Fatal(err)
	}
	waitOverlayText(t, base, "Standby")

	// Moonraker dies: the picture says so within 3 s, and the stream
	// never stalls for it.
	gaps.reset()
	if err := mr.KillMoonraker(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	waitOverlayText(t, base, "Moonraker offline")
	if took := time.Since(killed); took > 3*time.Second {
		t.Fatalf("offline shown %s after the kill, want within 3 s", took)
	}
	read("offline")
	if err := mr.StartMoonraker(ctx); err != nil {
		t.Fatal(err)
	}
	read("Standby")
	if g, at := gaps.worst(); g > 200*time.Millisecond {
		t.Fatalf("the viewer saw a %s gap between frames (at %s, machine load %s) while Moonraker was down", g, at.Format("15:04:05.000"), loadAverage())
	}
}
