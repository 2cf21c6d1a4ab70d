package compositor

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pipcam/pipcam/configs"
	"github.com/pipcam/pipcam/media"
)

// testConfig is a small graph for this 2-core machine: two solid-colour test
// cameras so a decoded frame shows plainly where each one is.
func testConfig() *configs.Config {
	cfg := configs.Default()
	cfg.Cameras[0].Pattern = "red"
	cfg.Cameras[1].Pattern = "green"
	cfg.Output = configs.Output{Width: 320, Height: 240, Framerate: 15}
	cfg.Encoder.Element = configs.EncoderX264
	cfg.Overlay.Text = ""
	cfg.FLV.Listen = "127.0.0.1:0"
	cfg.HTTP.Listen = "127.0.0.1:0"
	return cfg
}

func startGraph(t *testing.T, cfg *configs.Config) *Graph {
	t.Helper()
	return startGraphLogging(t, cfg, io.Discard)
}

// startGraphLogging is startGraph with the graph's log (debug and up)
// written to w.
func startGraphLogging(t *testing.T, cfg *configs.Config, w io.Writer) *Graph {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("test config: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	g, err := New(ctx, cfg, slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatalf("start graph: %v", err)
	}
	t.Cleanup(g.Close)
	return g
}

// nextAUs collects n access units from a subscription, failing after a deadline.
func nextAUs(t *testing.T, aus <-chan media.AccessUnit, n int) []media.AccessUnit {
	t.Helper()
	var got []media.AccessUnit
	deadline := time.After(20 * time.Second)
	for len(got) < n {
		select {
		case au, ok := <-aus:
			if !ok {
				t.Fatalf("subscription closed after %d access units", len(got))
			}
			got = append(got, au)
		case <-deadline:
			t.Fatalf("only %d of %d access units arrived", len(got), n)
		}
	}
	return got
}

// fromKeyframe collects n access units starting at the first keyframe made
// after the call (what is already queued in the subscription is dropped).
func fromKeyframe(t *testing.T, g *Graph, aus <-chan media.AccessUnit, n int) []media.AccessUnit {
	t.Helper()
	drain(aus)
	g.RequestKeyframe()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case au := <-aus:
			if au.Keyframe {
				return append([]media.AccessUnit{au}, nextAUs(t, aus, n-1)...)
			}
		case <-deadline:
			t.Fatal("no keyframe arrived")
		}
	}
}

// drain drops what is already queued in a subscription.
func drain(aus <-chan media.AccessUnit) {
	for {
		select {
		case <-aus:
		default:
			return
		}
	}
}

// decodeLast decodes an H.264 sequence with ffmpeg and returns the last
// picture as RGB24.
func decodeLast(t *testing.T, aus []media.AccessUnit, w, h int) []byte {
	t.Helper()
	var stream bytes.Buffer
	for _, au := range aus {
		stream.Write(au.Data)
	}
	cmd := exec.Command("ffmpeg", "-v", "error", "-f", "h264", "-i", "pipe:0", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1")
	cmd.Stdin = &stream
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffmpeg decode: %v: %s", err, stderr.String())
	}
	frame := w * h * 3
	if len(out) < frame || len(out)%frame != 0 {
		t.Fatalf("decoded %d bytes, not whole %dx%d frames", len(out), w, h)
	}
	return out[len(out)-frame:]
}

type rgb struct{ r, g, b int }

func pixel(frame []byte, w, x, y int) rgb {
	i := (y*w + x) * 3
	return rgb{int(frame[i]), int(frame[i+1]), int(frame[i+2])}
}

// nonRed counts the pixels of a rectangle that are not the red camera.
func nonRed(frame []byte, w, x0, y0, x1, y1 int) int {
	n := 0
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			if !pixel(frame, w, x, y).isRed() {
				n++
			}
		}
	}
	return n
}

func (c rgb) isRed() bool   { return c.r > 150 && c.g < 100 && c.b < 100 }
func (c rgb) isGreen() bool { return c.g > 150 && c.r < 100 && c.b < 100 }

func TestGraphProducesDecodableH264(t *testing.T) {
	g := startGraph(t, testConfig())
	aus, cancel := g.Subscribe(64)
	defer cancel()

	nextAUs(t, aus, 15) // past the encoder's warm-up
	got := fromKeyframe(t, g, aus, 30)
	if !media.IsDecodableStart(got[0].Data) {
		t.Fatalf("keyframe AU has NAL types %v, want SPS, PPS and IDR", media.Types(got[0].Data))
	}
	// One slice per picture (x264 on one thread at this size): every
	// viewer gets the fewest packets.
	for _, au := range got {
		types := media.Types(au.Data)
		n := 0
		for _, typ := range types {
			if typ == media.NALSlice || typ == media.NALIDR {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("an AU with NAL types %v: %d slices, want 1", types, n)
		}
	}
	var gaps []time.Duration
	for i, au := range got[1:] {
		if au.PTS <= got[i].PTS {
			t.Fatalf("PTS not increasing at %d: %v then %v", i+1, got[i].PTS, au.PTS)
		}
		gaps = append(gaps, au.PTS-got[i].PTS)
	}
	// The configured rate: the median picture interval is 1/15 s.
	sort.Slice(gaps, func(i, j int) bool { return gaps[i] < gaps[j] })
	if med := gaps[len(gaps)/2]; med < 60*time.Millisecond || med > 73*time.Millisecond {
		t.Fatalf("median picture interval %v, want 66.7 ms (15 fps)", med)
	}
	frame := decodeLast(t, got, 320, 240)
	if c := pixel(frame, 320, 40, 120); !c.isRed() {
		t.Fatalf("main camera pixel is %+v, want red", c)
	}
}

func TestForcedKeyframeArrivesAtTheNextFrames(t *testing.T) {
	cfg := testConfig()
	cfg.Encoder.KeyframeInterval = configs.Duration(60 * time.Second) // only forced IDRs
	cfg.Encoder.KeyframeMinGap = 0
	g := startGraph(t, cfg)
	aus, cancel := g.Subscribe(64)
	defer cancel()
	nextAUs(t, aus, 20) // past the stream's first IDR
	for round := 0; round < 3; round++ {
		drain(aus)
		g.RequestKeyframe()
		// The queue between compositor and encoder holds at most 2 frames,
		// so the IDR must come within a few pictures, not at the GOP end.
		got := nextAUs(t, aus, 5)
		found := false
		for _, au := range got {
			if au.Keyframe {
				found = true
				if !media.IsDecodableStart(au.Data) {
					t.Fatalf("forced keyframe lacks SPS/PPS/IDR: %v", media.Types(au.Data))
				}
			}
		}
		if !found {
			t.Fatalf("round %d: no keyframe within 5 pictures of the request", round)
		}
	}
}

func TestLayoutAndTextChangeWhilePlaying(t *testing.T) {
	g := startGraph(t, testConfig())
	aus, cancel := g.Subscribe(64)
	defer cancel()
	// Inset (green) bottom-right: 96x72 at (208,152).
	before := decodeLast(t, fromKeyframe(t, g, aus, 10), 320, 240)
	if c := pixel(before, 320, 256, 188); !c.isGreen() {
		t.Fatalf("before: bottom-right is %+v, want the green inset", c)
	}
	if c := pixel(before, 320, 64, 52); !c.isRed() {
		t.Fatalf("before: top-left is %+v, want the red main camera", c)
	}

	l := g.Layout()
	l.Corner = configs.CornerTopLeft
	if err := g.SetLayout(l); err != nil {
		t.Fatal(err)
	}
	if err := g.SetText("printing 42%"); err != nil {
		t.Fatal(err)
	}
	geo, err := g.PadGeometryNow("b")
	if err != nil {
		t.Fatal(err)
	}
	if want := (PadGeometry{16, 16, 96, 72, 2, 1}); geo != want {
		t.Fatalf("pad sink_1 now %+v, want %+v", geo, want)
	}
	after := decodeLast(t, fromKeyframe(t, g, aus, 10), 320, 240)
	if c := pixel(after, 320, 64, 52); !c.isGreen() {
		t.Fatalf("after: top-left is %+v, want the green inset", c)
	}
	if c := pixel(after, 320, 256, 188); !c.isRed() {
		t.Fatalf("after: bottom-right is %+v, want the red main camera", c)
	}
	if g.Text() != "printing 42%" {
		t.Fatalf("text %q", g.Text())
	}
	// The text is in the picture: the top-left corner, plain red before
	// (testConfig has no text), now holds the shaded box and white glyphs.
	if n := nonRed(before, 320, 0, 0, 160, 30); n != 0 {
		t.Fatalf("before: %d non-red pixels where the text goes", n)
	}
	if n := nonRed(after, 320, 0, 0, 160, 30); n < 100 {
		t.Fatalf("after: only %d non-red pixels where the text goes", n)
	}
	// Frames kept flowing the whole time: the subscription never closed and
	// PTS kept rising (checked inside nextAUs/fromKeyframe).

	bad := l
	bad.Inset = "nope"
	if err := g.SetLayout(bad); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("invalid layout: err %v", err)
	}
	if g.Layout() != l {
		t.Fatalf("a rejected layout changed the layout to %+v", g.Layout())
	}
}

func TestBitrateChangesWhilePlaying(t *testing.T) {
	g := startGraph(t, testConfig())
	if err := g.SetBitrate(150); err != nil {
		t.Fatal(err)
	}
	if v, _ := g.current().encoder.GetProperty("bitrate"); v != uint(150) {
		t.Fatalf("x264enc bitrate is %v, want 150", v)
	}
	if err := g.SetBitrate(10); err == nil {
		t.Fatal("10 kbit/s accepted")
	}
	aus, cancel := g.Subscribe(8)
	defer cancel()
	nextAUs(t, aus, 5) // still flowing
	if st := g.Status().(Status); st.BitrateKbps != 150 {
		t.Fatalf("status bitrate %d", st.BitrateKbps)
	}
}

// A V4L2 camera that cannot be opened does not stop the graph; status
// names the device and why.
func TestCameraThatCannotOpenIsNamed(t *testing.T) {
	cfg := testConfig()
	cfg.Cameras[1] = configs.Camera{Name: "b", Type: configs.CameraV4L2, Device: "/dev/null", Format: configs.FormatMJPEG}
	g := startGraph(t, cfg)
	st := waitSource(t, g, "b", 10*time.Second, "b failed", func(s SourceStatus) bool { return s.State == string(CameraFailed) })
	if !strings.Contains(st.Error, "/dev/null") {
		t.Fatalf("error does not name the device: %q", st.Error)
	}
	aus, cancel := g.Subscribe(8)
	defer cancel()
	nextAUs(t, aus, 5) // the stream runs regardless
}
