package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pipcam/pipcam/configs"
	"github.com/pipcam/pipcam/internal/octoprinttest"
	"github.com/pipcam/pipcam/internal/viewer"
)

// The printer's status is in the picture itself: a real OctoPrint with its
// virtual printer prints, and tesseract reads the overlay back out of
// frames a WebRTC viewer received and decoded, at the default size
// (640x480, the fitted font). Killing OctoPrint mid-print shows "offline"
// while frames keep flowing; it recovers when OctoPrint is back.
func TestPrinterStatusIsReadableInThePicture(t *testing.T) {
	if testing.Short() {
		t.Skip("real OctoPrint, tesseract: not in -short")
	}
	if _, err := exec.LookPath("tesseract"); err != nil {
		t.Fatal("tesseract not installed (apt install tesseract-ocr): run make deps")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	op := startOctoPrint(ctx, t)
	if err := op.Upload(ctx, "benchy.gcode", octoprinttest.GCode(25*time.Second)); err != nil {
		t.Fatal(err)
	}

	favourDaemon(t)
	cfg := testConfig()
	cfg.Output = configs.Output{Width: 640, Height: 480, Framerate: 15}
	cfg.Printer.Type = configs.PrinterOctoPrint
	cfg.Printer.URL = op.URL
	cfg.Printer.APIKey = configs.Secret(op.APIKey)
	d := startTestDaemon(t, cfg)
	base := "http://" + d.HTTPAddr()
	var gaps gapMeter
	v := watchWith(t, base, viewer.Options{Logger: quietLogger(), OnAU: gaps.observe})

	read := func(want string) { readBack(t, base, v, want) }
	read("Operational")
	if err := op.Print(ctx, "benchy.gcode"); err != nil {
		t.Fatal(err)
	}
	waitOverlay(t, base, "printing at 10 % or more", func(o overlayStatus) bool {
		return strings.HasPrefix(o.Text, "Printing") && o.Progress >= 0.1
	})
	read("Printing")
	if err := op.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	read("Paused")
	if err := op.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	read("Printing")
	if _, err := op.WaitState(ctx, "Operational", "Finishing"); err != nil {
		t.Fatal(err)
	}
	read("Finished")

	// OctoPrint dies in the middle of a print: the picture says so within
	// 3 s, and the stream never stalls for it.
	if err := op.Print(ctx, "benchy.gcode"); err != nil {
		t.Fatal(err)
	}
	waitOverlayText(t, base, "Printing")
	gaps.reset()
	if err := op.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	waitOverlayText(t, base, "offline")
	if took := time.Since(killed); took > 3*time.Second {
		t.Fatalf("offline shown %s after the kill, want within 3 s", took)
	}
	read("offline")
	if err := op.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	waitOverlay(t, base, "recovery after the restart", func(o overlayStatus) bool { return !strings.Contains(o.Text, "OctoPrint offline") })
	if g, at := gaps.worst(); g > 200*time.Millisecond {
		t.Fatalf("the viewer saw a %s gap between frames (at %s, machine load %s) while OctoPrint was down", g, at.Format("15:04:05.000"), loadAverage())
	}
}

// readBack waits for the overlay to show want, then reads the picture a
// viewer v received with tesseract: the overlay's first word (and its
// progress number) must be in it. 640x480. It returns what tesseract read.
func readBack(t *testing.T, base string, v *viewer.Viewer, want string) string {
	t.Helper()
	text := waitOverlayText(t, base, want)
	time.Sleep(500 * time.Millisecond) // the new text reaches the next frames
	// OCR misreads a glyph now and then (a 4 as a 9): a picture is
	// readable when one of three fresh frames reads right.
	var tries []string
	for try := 0; try < 3; try++ {
		got := ocr(t, v, 640, 480)
		after := overlayNow(t, base).Text
		err := checkOCR(text, after, got)
		if err == nil {
			t.Logf("overlay %q, tesseract read %q", text, got)
			return got
		}
		tries = append(tries, err.Error())
		text = after
	}
	t.Fatalf("the overlay is not readable in the picture:\n%s", strings.Join(tries, "\n"))
	return ""
}

type overlayStatus struct {
	Text     string  `json:"text"`
	Progress float64 `json:"progress"`
}

func overlayNow(t *testing.T, base string) overlayStatus {
	t.Helper()
	resp, err := http.Get(base + "/api/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Overlay overlayStatus `json:"overlay"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st.Overlay
}

func waitOverlay(t *testing.T, base, what string, cond func(overlayStatus) bool) overlayStatus {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		o := overlayNow(t, base)
		if cond(o) {
			return o
		}
		if time.Now().After(deadline) {
			t.Fatalf("overlay never showed %s; last %q", what, o.Text)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitOverlayText waits for the overlay text to contain want.
func waitOverlayText(t *testing.T, base, want string) string {
	t.Helper()
	return waitOverlay(t, base, want, func(o overlayStatus) bool { return strings.Contains(o.Text, want) }).Text
}

// ocr decodes the viewer's next pictures and reads the overlay's line (the
// top of the picture) with tesseract.
func ocr(t *testing.T, v *viewer.Viewer, w, h int) string {
	t.Helper()
	for len(v.AUs()) > 0 {
		<-v.AUs()
	}
	// From a keyframe, so the decoder has what it needs.
	if err := v.SendPLI(); err != nil {
		t.Fatal(err)
	}
	var stream bytes.Buffer
	deadline := time.After(10 * time.Second)
	for n := 0; n < 8; {
		select {
		case au := <-v.AUs():
			if stream.Len() == 0 && !au.Decodable {
				continue
			}
			stream.Write(au.Data)
			n++
		case <-deadline:
			t.Fatal("no keyframe to read the overlay from")
		}
	}
	// Niced, like tesseract below: the checking must not take the CPU
	// the daemon under test needs for its frames.
	cmd := exec.Command("nice", "-n", "10", "ffmpeg", "-v", "error", "-f", "h264", "-i", "pipe:0", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1")
	cmd.Stdin = &stream
	out, err := cmd.Output()
	if err != nil || len(out) < w*h*3 {
		t.Fatalf("decode: %v (%d bytes)", err, len(out))
	}
	// PIPCAM_OCR_DUMP=dir keeps every frame read (raw RGB, w x h), to
	// work on the reading.
	if d := os.Getenv("PIPCAM_OCR_DUMP"); d != "" {
		_ = os.WriteFile(filepath.Join(d, fmt.Sprintf("%d.rgb", time.Now().UnixNano())), out[len(out)-w*h*3:], 0o644)
	}
	return readOverlayLine(t, out[len(out)-w*h*3:], w)
}

// readOverlayLine reads the overlay's line (the top of the picture) out of
// a decoded RGB frame with tesseract.
func readOverlayLine(t *testing.T, frame []byte, w int) string {
	t.Helper()
	// The text line: white glyphs on the shaded box. Tesseract reads dark
	// text on white best: the line's brightness is scaled up 4x smoothly
	// (bilinear: blocky glyphs made it read a 5 as a 9, "16s" as "165"),
	// inverted, and stretched so that the shaded box is white and the
	// glyphs' cores black, their anti-aliased edges grey between.
	const lineH, scale = 34, 4
	const dark, bright = 120, 230 // the stretch: box and glyph brightness
	lum := func(x, y int) float64 {
		i := (y*w + x) * 3
		return (299*float64(frame[i]) + 587*float64(frame[i+1]) + 114*float64(frame[i+2])) / 1000
	}
	img := image.NewGray(image.Rect(0, 0, w*scale, lineH*scale))
	for y := 0; y < lineH*scale; y++ {
		fy := max((float64(y)+0.5)/scale-0.5, 0)
		y0 := int(fy)
		y1, ay := min(y0+1, lineH-1), fy-float64(y0)
		for x := 0; x < w*scale; x++ {
			fx := max((float64(x)+0.5)/scale-0.5, 0)
			x0 := int(fx)
			x1, ax := min(x0+1, w-1), fx-float64(x0)
			v := (1-ay)*((1-ax)*lum(x0, y0)+ax*lum(x1, y0)) + ay*((1-ax)*lum(x0, y1)+ax*lum(x1, y1))
			c := 255 - (v-dark)*255/(bright-dark)
			img.SetGray(x, y, color.Gray{Y: uint8(max(0, min(255, c)))})
		}
	}
	file := filepath.Join(t.TempDir(), "line.png")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()
	text, err := exec.Command("nice", "-n", "10", "tesseract", file, "stdout", "--psm", "7").Output()
	if err != nil {
		t.Fatalf("tesseract: %v", err)
	}
	return strings.TrimSpace(string(text))
}

var percentRE = regexp.MustCompile(`(\d+)\s*%`)

// checkOCR: the state word the overlay shows is read back, and so is the
// progress number, between the one shown before the frame was taken and
// the one after (a print moves on while frames are decoded).
func checkOCR(before, after, got string) error {
	word := strings.Fields(before)[0]
	if strings.Contains(before, "offline") {
		word = "offline"
	}
	if !strings.Contains(strings.ToLower(got), strings.ToLower(word)) {
		return fmt.Errorf("the picture reads %q; want the overlay's %q in it (overlay: %q)", got, word, before)
	}
	lo, ok := percentOf(before)
	if !ok {
		return nil
	}
	hi, ok := percentOf(after)
	if !ok {
		hi = lo
	}
	n, ok := percentOf(got)
	if !ok {
		return fmt.Errorf("the picture reads %q: no progress number (overlay: %q)", got, before)
	}
	if n < lo || n > hi {
		return fmt.Errorf("the picture reads %q: %d%%; the overlay said %d%% before and %d%% after", got, n, lo, hi)
	}
	return nil
}

func percentOf(s string) (int, bool) {
	m := percentRE.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}
