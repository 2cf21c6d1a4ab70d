package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/pipcam/pipcam/internal/octoprinttest"
	"github.com/pipcam/pipcam/internal/viewer"
)

// runOverlay prints the overlay's figures:
//   - the daemon's CPU with the text redrawn every second against a fixed
//     text (alternating rounds: the difference should be noise);
//   - the time from an OctoPrint state change (pause, resume) to the first
//     frame a WebRTC viewer receives that shows it, with the push socket.
func runOverlay(bin string, rounds int, window time.Duration, sb *scoreboard) error {
	if err := overlayCPU(bin, rounds, window, sb); err != nil {
		return err
	}
	if err := barCost(bin, rounds, window, sb); err != nil {
		return err
	}
	return stateToPicture(bin, 10, sb)
}

func overlayCPU(bin string, rounds int, window time.Duration, sb *scoreboard) error {
	static, err := startDaemon(bin, daemonOpts{yaml: "overlay:\n  text: \"Printing 42% · 1h12m left\"\n"})
	if err != nil {
		return err
	}
	defer static.stop()
	ticking, err := startDaemon(bin, daemonOpts{yaml: "overlay:\n  text: \"Printing 42% · {{clock \\\"15:04:05\\\"}}\"\n"})
	if err != nil {
		return err
	}
	defer ticking.stop()
	time.Sleep(3 * time.Second)
	var diffs []float64
	for i := 0; i < rounds; i++ {
		a := measure(static.pid(), window, nil)
		b := measure(ticking.pid(), window, nil)
		diffs = append(diffs, b.cpu-a.cpu)
		fmt.Fprintf(progress, "overlay round %d: fixed text %5.1f %%, text redrawn every second %5.1f %% of one core\n", i+1, a.cpu, b.cpu)
	}
	mean, lo, hi := stats(diffs)
	sb.add("overlay", "text redrawn every second vs a fixed text: daemon CPU", "within noise",
		"%+.1f points of one core (mean of %d rounds, range %+.1f to %+.1f)", mean, rounds, lo, hi)
	return nil
}

// stateToPicture pauses and resumes a real OctoPrint print n times and
// times each change to the first received frame whose overlay shows the
// new state word. Frames are decoded as they arrive (one ffmpeg process
// for the whole stream; one frame per access unit, no B-frames), and the
// left end of the text line, where the state word is, is compared with
// how it looked before the change.
func stateToPicture(bin string, n int, sb *scoreboard) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	op, err := octoprinttest.Start(ctx, octoprinttest.Options{})
	if err != nil {
		return fmt.Errorf("OctoPrint: %w", err)
	}
	defer op.Close()
	if err := op.Connect(ctx); err != nil {
		return err
	}
	if err := op.Upload(ctx, "bench.gcode", octoprinttest.GCode(10*time.Minute)); err != nil {
		return err
	}
	if err := op.Print(ctx, "bench.gcode"); err != nil {
		return err
	}
	if _, err := op.WaitState(ctx, "Printing"); err != nil {
		return err
	}
	frames, stop, err := watchPicture(ctx, bin, fmt.Sprintf("printer:\n  type: octoprint\n  url: %q\n  api_key: %q\n", op.URL, op.APIKey))
	if err != nil {
		return err
	}
	defer stop()
	time.Sleep(3 * time.Second) // the overlay has connected and drawn "Printing"
	var took []time.Duration
	for i := 0; i < n; i++ {
		change, want := op.Pause, "Paused"
		if i%2 == 1 {
			change, want = op.Resume, "Printing"
		}
		before := frames.stateRegion()
		asked := time.Now()
		if err := change(ctx); err != nil {
			return err
		}
		at, err := frames.waitChange(before, asked, 10*time.Second)
		if err != nil {
			return fmt.Errorf("%s: %w", want, err)
		}
		took = append(took, at.Sub(asked))
		time.Sleep(1500 * time.Millisecond) // settle; OctoPrint needs a moment between pause and resume
	}
	sb.add("overlay", fmt.Sprintf("OctoPrint state change (pause/resume, push socket) to the first received frame showing it, %d changes", len(took)),
		"p50 ≤ 300 ms", "p50 %s, p90 %s, max %s", pct(took, 50), pct(took, 90), pct(took, 100))
	return nil
}

// frameWatch decodes a viewer's stream as it arrives and keeps, for the
// latest frame, the pixels of the state word (the left end of the overlay
// line) and when that frame's access unit arrived.
type frameWatch struct {
	w, h  int
	dec   *exec.Cmd
	in    io.WriteCloser
	mu    sync.Mutex
	cond  *sync.Cond
	times []time.Time // arrival of each AU written, in order
	n     int         // frames decoded
	last  []byte      // state-word pixels of the newest frame
	at    time.Time   // its arrival
	begun bool
	done  bool
}

func newFrameWatch(w, h int) *frameWatch {
	f := &frameWatch{w: w, h: h}
	f.cond = sync.NewCond(&f.mu)
	f.dec = exec.Command("ffmpeg", "-v", "error", "-f", "h264", "-i", "pipe:0", "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1")
	f.in, _ = f.dec.StdinPipe()
	out, _ := f.dec.StdoutPipe()
	if err := f.dec.Start(); err != nil {
		f.done = true
		return f
	}
	go f.read(bufio.NewReaderSize(out, w*h))
	return f
}

// add feeds an access unit to the decoder (from the viewer's OnAU hook).
func (f *frameWatch) add(au viewer.AU) {
	f.mu.Lock()
	if !f.begun && !au.Decodable {
		f.mu.Unlock()
		return
	}
	f.begun = true
	f.times = append(f.times, au.Arrival)
	f.mu.Unlock()
	_, _ = f.in.Write(au.Data)
}

func (f *frameWatch) read(r io.Reader) {
	frame := make([]byte, f.w*f.h)
	for {
		if _, err := io.ReadFull(r, frame); err != nil {
			f.mu.Lock()
			f.done = true
			f.cond.Broadcast()
			f.mu.Unlock()
			return
		}
		region := stateWord(frame, f.w)
		f.mu.Lock()
		if f.n < len(f.times) {
			f.at = f.times[f.n]
		}
		f.n++
		f.last = region
		f.cond.Broadcast()
		f.mu.Unlock()
	}
}

// stateWord cuts out where the overlay's first word is drawn, as
// black-and-white (text or not).
func stateWord(frame []byte, w int) []byte {
	var out []byte
	for y := 8; y < 30; y++ {
		for x := 10; x < 80; x++ {
			out = append(out, frame[y*w+x]&0x80)
		}
	}
	return out
}

func (f *frameWatch) stateRegion() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]byte(nil), f.last...)
}

// waitChange waits for a frame that arrived after since and whose state
// word differs from before, and returns when it arrived.
func (f *frameWatch) waitChange(before []byte, since time.Time, timeout time.Duration) (time.Time, error) {
	deadline := time.AfterFunc(timeout, func() { f.mu.Lock(); f.cond.Broadcast(); f.mu.Unlock() })
	defer deadline.Stop()
	end := time.Now().Add(timeout)
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		if f.at.After(since) && wordChanged(before, f.last) {
			return f.at, nil
		}
		if f.done || time.Now().After(end) {
			return time.Time{}, fmt.Errorf("no frame showed the change within %s", timeout)
		}
		f.cond.Wait()
	}
}

// wordChanged: enough of the state word's pixels differ for another word
// to be drawn there (a twentieth of them; "Printing" to "Paused" is about
// a quarter). Fewer is the encoder's noise when text elsewhere on the
// line changes (a few dozen pixels, measured).
func wordChanged(before, now []byte) bool {
	if len(before) != len(now) {
		return true
	}
	n := 0
	for i := range now {
		if now[i] != before[i] {
			n++
		}
	}
	return n >= len(now)/20
}

func (f *frameWatch) close() {
	if f.in != nil {
		f.in.Close()
	}
	if f.dec.Process != nil {
		_ = f.dec.Wait()
	}
}

// barCost is what the progress bar's two sources cost: the graph pipcam
// prints (pipcam print-pipeline) run by gst-launch-1.0 as it is and with
// the bar's chains and pad settings taken out, in alternating rounds.
func barCost(bin string, rounds int, window time.Duration, sb *scoreboard) error {
	dir, err := os.MkdirTemp("", "pipcam-bench-bar")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfgPath := filepath.Join(dir, "pipcam.yaml")
	if err := os.WriteFile(cfgPath, []byte("flv:\n  listen: \"127.0.0.1:0\"\n"), 0o600); err != nil {
		return err
	}
	out, err := exec.Command(bin, "print-pipeline", "-config", cfgPath).Output()
	if err != nil {
		return fmt.Errorf("print-pipeline: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	with := lines[len(lines)-1]
	without := barChainRE.ReplaceAllString(with, "")
	for _, m := range barChainRE.FindAllStringSubmatch(with, -1) {
		without = regexp.MustCompile(` `+m[1]+`::\S+`).ReplaceAllString(without, "")
	}
	if without == with {
		return fmt.Errorf("no progress bar found in the printed graph")
	}
	var procs []*exec.Cmd
	defer func() {
		for _, p := range procs {
			_ = p.Process.Kill()
			_ = p.Wait()
		}
	}()
	for _, line := range []string{with, without} {
		cmd := exec.Command("sh", "-c", "exec "+line)
		if err := cmd.Start(); err != nil {
			return err
		}
		procs = append(procs, cmd)
	}
	time.Sleep(3 * time.Second)
	var diffs []float64
	for i := 0; i < rounds; i++ {
		a := measure(procs[0].Process.Pid, window, nil)
		b := measure(procs[1].Process.Pid, window, nil)
		diffs = append(diffs, a.cpu-b.cpu)
		fmt.Fprintf(progress, "bar round %d: with %5.1f %%, without %5.1f %% of one core\n", i+1, a.cpu, b.cpu)
	}
	mean, lo, hi := stats(diffs)
	sb.add("overlay", "progress bar: its two sources and pads (printed graph in gst-launch-1.0, with and without)", "",
		"%+.1f points of one core (mean of %d rounds, range %+.1f to %+.1f)", mean, rounds, lo, hi)
	return nil
}

// barChainRE matches one progress-bar chain of a printed graph and
// captures the mixer pad it feeds.
var barChainRE = regexp.MustCompile(` videotestsrc name=bar(?:track|fill) .*? mix\.(sink_\d+)`)
