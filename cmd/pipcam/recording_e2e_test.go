package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pipcam/pipcam/configs"
	"github.com/pipcam/pipcam/internal/disktest"
	"github.com/pipcam/pipcam/internal/octoprinttest"
	"github.com/pipcam/pipcam/internal/probe"
	"github.com/pipcam/pipcam/internal/proc"
	"github.com/pipcam/pipcam/internal/viewer"
	"github.com/pipcam/pipcam/recordings"
)

// recordingNow is the recorder's part of /api/status.
type recordingNow struct {
	State   string    `json:"state"`
	File    string    `json:"file"`
	Started time.Time `json:"started"`
	Bytes   int64     `json:"bytes"`
	Error   string    `json:"error"`
}

func waitRecording(t *testing.T, base string, d time.Duration, what string, cond func(recordingNow) bool) recordingNow {
	t.Helper()
	deadline := time.Now().Add(d)
	var last recordingNow
	for {
		var st struct {
			Recording *recordingNow `json:"recording"`
		}
		if resp, err := http.Get(base + "/api/status"); err == nil {
			err = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if err == nil && st.Recording != nil {
				last = *st.Recording
				if cond(last) {
					return last
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("recording never %s within %s: %+v", what, d, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// printConfig records prints of op into dir.
func printConfig(op *octoprinttest.Server, dir string) *configs.Config {
	cfg := testConfig()
	cfg.Printer.Type = configs.PrinterOctoPrint
	cfg.Printer.URL = op.URL
	cfg.Printer.APIKey = configs.Secret(op.APIKey)
	cfg.Recording = configs.Recording{Enabled: true, Dir: dir, KeepPrints: 20, KeepSize: 2e9}
	return cfg
}

// Each print is recorded, with a real OctoPrint's virtual printer: one
// file, as long as the print, the overlay readable in it, downloadable;
// a pipcam killed with SIGKILL mid-print leaves a file playable to within
// 2 s of the kill; a full disk stops the recording with the reason in
// status while viewers go on.
func TestPrintRecordings(t *testing.T) {
	if testing.Short() {
		t.Skip("real OctoPrint, tesseract: not in -short")
	}
	for _, tool := range []string{"tesseract", "ffprobe", "ffmpeg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not installed: run make deps", tool)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	op := startOctoPrint(ctx, t)
	for name, d := range map[string]time.Duration{"benchy.gcode": 12 * time.Second, "long.gcode": 5 * time.Minute} {
		if err := op.Upload(ctx, name, octoprinttest.GCode(d)); err != nil {
			t.Fatal(err)
		}
	}
	favourDaemon(t)
	t.Run("a print makes one readable file", func(t *testing.T) { recordOnePrint(ctx, t, op) })
	t.Run("kill -9 leaves a playable file", func(t *testing.T) { killMidPrint(ctx, t, op) })
	t.Run("a full disk stops the recording, not the viewers", func(t *testing.T) { fillTheDisk(ctx, t, op) })
}

func recordOnePrint(ctx context.Context, t *testing.T, op *octoprinttest.Server) {
	cfg := printConfig(op, t.TempDir())
	cfg.Output = configs.Output{Width: 640, Height: 480, Framerate: 15} // the overlay's fitted font, for tesseract
	d := startTestDaemon(t, cfg)
	base := "http://" + d.HTTPAddr()
	if err := op.Print(ctx, "benchy.gcode"); err != nil {
		t.Fatal(err)
	}
	if _, err := op.WaitState(ctx, "Printing"); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if _, err := op.WaitState(ctx, "Operational"); err != nil {
		t.Fatal(err)
	}
	printed := time.Since(began)
	st := waitRecording(t, base, 15*time.Second, "finished", func(r recordingNow) bool { return r.State == "idle" && r.File != "" })

	resp, err := http.Get(base + "/api/recordings")
	if err != nil {
		t.Fatal(err)
	}
	var list []recordings.File
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if err != nil || len(list) != 1 || list[0].Name != st.File || list[0].Recording ||
		!strings.HasSuffix(list[0].Name, "_benchy.mp4") || list[0].Started.Sub(st.Started).Abs() > 5*time.Second {
		t.Fatalf("recordings listed: %+v (%v); status %+v", list, err, st)
	}
	file := download(t, base+"/recordings/"+list[0].Name)
	info, err := probe.File(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("print took %s; %s: %+v", printed, list[0].Name, info)
	if info.Video.Codec != "h264" || info.Video.Width != 640 || info.Video.Height != 480 || info.Errors != "" {
		t.Fatalf("ffprobe read %+v", info)
	}
	if diff := info.Duration - printed; diff < -time.Second || diff > time.Second {
		t.Fatalf("the recording lasts %s, the print %s: want within 1 s", info.Duration, printed)
	}
	got := readFileOverlay(t, file, info.Duration/2, 640, 480)
	t.Logf("tesseract read %q half way through", got)
	if !strings.Contains(strings.ToLower(got), "printing") {
		t.Fatalf("the picture half way through reads %q, want the overlay's Printing", got)
	}
}

// startOctoPrint runs a real OctoPrint with its virtual printer connected
// until the test ends.
func startOctoPrint(ctx context.Context, t *testing.T) *octoprinttest.Server {
	t.Helper()
	op, err := octoprinttest.Start(ctx, octoprinttest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Close() })
	if err := op.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	return op
}

// download saves a URL into a temporary file.
func download(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "video/mp4" {
		t.Fatalf("GET %s: %s %v", url, resp.Status, resp.Header)
	}
	path := filepath.Join(t.TempDir(), "download.mp4")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		t.Fatal(err)
	}
	return path
}

// readFileOverlay decodes the picture at a time of a file and reads its
// overlay line.
func readFileOverlay(t *testing.T, file string, at time.Duration, w, h int) string {
	t.Helper()
	cmd := exec.Command("nice", "-n", "10", "ffmpeg", "-v", "error", "-ss", fmt.Sprintf("%.3f", at.Seconds()), "-i", file,
		"-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1")
	out, err := cmd.Output()
	if err != nil || len(out) != w*h*3 {
		t.Fatalf("decode %s at %s: %v (%d bytes)", file, at, err, len(out))
	}
	return readOverlayLine(t, out, w)
}

// killMidPrint runs the real binary, kills it with SIGKILL while it
// records, and reads what it left.
func killMidPrint(ctx context.Context, t *testing.T, op *octoprinttest.Server) {
	dir := t.TempDir()
	bin := buildPipcam(t, dir)
	recDir := filepath.Join(dir, "recordings")
	httpAddr := freeAddr(t)
	cfgPath := filepath.Join(dir, "pipcam.yaml")
	yaml := fmt.Sprintf(`output: {width: 320, height: 240, framerate: 15}
encoder: {element: x264enc}
http: {listen: %q, token_file: %q}
flv: {listen: "127.0.0.1:0"}
webrtc: {ice_port: 0}
printer: {type: octoprint, url: %q, api_key: %q}
recording: {enabled: true, dir: %q}
`, httpAddr, filepath.Join(dir, "token"), op.URL, op.APIKey, recDir)
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var out proc.Log
	cmd, exited := runBinary(t, bin, nil, &out, "run", "-config", cfgPath)
	base := "http://" + httpAddr
	waitUp(t, base, exited, &out)

	if err := op.Print(ctx, "long.gcode"); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := op.Cancel(ctx); err != nil {
			t.Error(err)
		}
		if _, err := op.WaitState(ctx, "Operational"); err != nil {
			t.Error(err)
		}
	}()
	st := waitRecording(t, base, 30*time.Second, "recording", func(r recordingNow) bool { return r.State == "recording" })
	st = waitRecording(t, base, 30*time.Second, "6 s in", func(r recordingNow) bool {
		return r.Bytes > 0 && time.Since(st.Started) > 6*time.Second
	})
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	<-exited
	recorded := killed.Sub(st.Started)
	info, err := probe.File(ctx, filepath.Join(recDir, st.File))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("killed %s into the recording; the file has %d frames up to %s (ffmpeg: %q)", recorded, info.Video.Frames, info.LastPicture, info.Errors)
	if info.Video.Codec != "h264" || info.Video.Width != 320 {
		t.Fatalf("ffprobe read %+v", info)
	}
	if info.LastPicture < recorded-2*time.Second {
		t.Fatalf("the file plays to %s; pipcam was killed %s into it: want within the last 2 s", info.LastPicture, recorded)
	}
	if want := int((recorded - 2*time.Second).Seconds() * 15 * 0.8); info.Video.Frames < want {
		t.Fatalf("only %d frames decode, want at least %d", info.Video.Frames, want)
	}
}

// runBinary starts the built binary with args in env (nil: this process's
// environment), its output into out; it is killed with the test, or with
// this process. exited closes when it has ended.
func runBinary(t *testing.T, bin string, env []string, out *proc.Log, args ...string) (*exec.Cmd, <-chan struct{}) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = out, out
	exited, err := proc.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proc.Stop(cmd, exited) })
	return cmd, exited
}

// buildPipcam builds the daemon's binary into dir.
func buildPipcam(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "pipcam")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build pipcam: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitUp waits until the daemon answers its status.
func waitUp(t *testing.T, base string, exited <-chan struct{}, out *proc.Log) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("pipcam exited:\n%s", out.String())
		default:
		}
		if resp, err := http.Get(base + "/api/status"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pipcam not up after 45 s:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fillTheDisk records noise at 2 Mbit/s onto a 256 KiB disk while a
// viewer watches.
func fillTheDisk(ctx context.Context, t *testing.T, op *octoprinttest.Server) {
	dir := disktest.Small(t, 256<<10)
	cfg := printConfig(op, dir)
	cfg.Cameras[0].Pattern = "snow"
	cfg.Encoder.BitrateKbps = 2000
	d := startTestDaemon(t, cfg)
	base := "http://" + d.HTTPAddr()
	var gaps gapMeter
	v := watchWith(t, base, viewer.Options{Logger: quietLogger(), OnAU: gaps.observe})
	gaps.reset()
	if err := op.Print(ctx, "benchy.gcode"); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if _, err := op.WaitState(ctx, "Operational"); err != nil {
			t.Error(err)
		}
	}()
	st := waitRecording(t, base, 30*time.Second, "failed", func(r recordingNow) bool { return r.State == "failed" })
	t.Logf("recording status: %+v", st)
	if !strings.Contains(st.Error, "full") || !strings.Contains(st.Error, dir) {
		t.Fatalf("the status does not say the disk is full: %+v", st)
	}
	// The viewer went on through it, and goes on.
	collect(t, v, time.Second)
	g, at := gaps.worst()
	t.Logf("the viewer's longest gap between frames meanwhile: %s (machine load %s)", g, loadAverage())
	if g > 300*time.Millisecond {
		t.Fatalf("the viewer saw a %s gap (at %s, machine load %s) while the disk filled", g, at.Format("15:04:05.000"), loadAverage())
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(statusJSON(t, base)), "", " "); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"state": "failed"`) {
		t.Fatalf("status: %s", buf.String())
	}
}
