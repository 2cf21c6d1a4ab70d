package compositor

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/go-gst/go-gst/gst"

	"github.com/pipcam/pipcam/media"
)

// waitStatus polls the graph's status until cond holds.
func waitStatus(t *testing.T, g *Graph, d time.Duration, what string, cond func(Status) bool) Status {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		st := g.Status().(Status)
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; status %+v", d, what, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// afterRebuild reads a subscription across a rebuild: it must stay open,
// deliver a keyframe after the rebuild and keep PTS rising throughout.
func afterRebuild(t *testing.T, g *Graph, aus <-chan media.AccessUnit, before time.Duration) {
	t.Helper()
	waitStatus(t, g, 30*time.Second, "a rebuilt, playing graph", func(st Status) bool { return st.Rebuilds == 1 && st.Playing })
	last := before
	sawKey := false
	for _, au := range nextAUs(t, aus, 30) {
		if au.PTS <= last {
			t.Fatalf("PTS went back across the rebuild: %v after %v", au.PTS, last)
		}
		last = au.PTS
		sawKey = sawKey || au.Keyframe && media.IsDecodableStart(au.Data)
	}
	if !sawKey {
		t.Fatal("no decodable keyframe after the rebuild")
	}
}

func TestGraphRebuildsAfterAFatalError(t *testing.T) {
	g := startGraph(t, testConfig())
	aus, cancel := g.Subscribe(256)
	defer cancel()
	got := nextAUs(t, aus, 10)
	// Settings made before the failure must survive it.
	if err := g.SetText("still here"); err != nil {
		t.Fatal(err)
	}
	if err := g.SetBitrate(222); err != nil {
		t.Fatal(err)
	}
	if err := g.InjectError(nameEncoder, "encoder fell over"); err != nil {
		t.Fatal(err)
	}
	afterRebuild(t, g, aus, got[len(got)-1].PTS)

	st := g.Status().(Status)
	if len(st.Errors) == 0 || st.Errors[0].Element != nameEncoder || !strings.Contains(st.Errors[0].Message, "encoder fell over") ||
		st.Errors[0].Debug == "" || st.Errors[0].Time.IsZero() {
		t.Fatalf("status errors %+v, want the encoder's error with its debug text and time", st.Errors)
	}
	r := g.current()
	if v, _ := r.encoder.GetProperty("bitrate"); v != uint(222) {
		t.Fatalf("rebuilt encoder bitrate %v, want the 222 set before", v)
	}
	if v, _ := r.overlay.GetProperty("text"); v != "still here" {
		t.Fatalf("rebuilt overlay text %q", v)
	}
}

// A setting changed while a rebuilt pipeline starts (after it was given
// the Graph's settings, before it is the running one) must still reach it,
// as a rebuild's steps run here one by one.
func TestSettingsChangedWhileAPipelineStartsReachIt(t *testing.T) {
	cfg := testConfig()
	g := startGraph(t, cfg)
	// The new pipeline starts at this bitrate, and is then set back to the
	// configured one: the way adaptation returns when a link recovers.
	if err := g.SetBitrate(222); err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	dead := g.cur
	g.cur = nil
	g.mu.Unlock()
	dead.close()
	r, err := g.startRun(context.Background(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.SetText("changed while starting"); err != nil {
		t.Fatal(err)
	}
	if err := g.SetBitrate(cfg.Encoder.BitrateKbps); err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	g.install(r)
	g.mu.Unlock()
	if v, _ := r.overlay.GetProperty("text"); v != "changed while starting" {
		t.Fatalf("overlay text %q, want the text set while the pipeline started", v)
	}
	if v, _ := r.encoder.GetProperty("bitrate"); v != uint(cfg.Encoder.BitrateKbps) {
		t.Fatalf("encoder bitrate %v, want the configured %d set back while the pipeline started", v, cfg.Encoder.BitrateKbps)
	}
}

func TestEndOfStreamRebuilds(t *testing.T) {
	g := startGraph(t, testConfig())
	aus, cancel := g.Subscribe(256)
	defer cancel()
	got := nextAUs(t, aus, 10)
	if !g.current().pipeline.SendEvent(gst.NewEOSEvent()) {
		t.Fatal("pipeline refused EOS")
	}
	afterRebuild(t, g, aus, got[len(got)-1].PTS)
}

func TestGraphGivesUpWhenItCannotBeRebuilt(t *testing.T) {
	saved := rebuildBackoff
	rebuildBackoff = []time.Duration{0, 10 * time.Millisecond}
	t.Cleanup(func() { rebuildBackoff = saved })
	g := startGraph(t, testConfig())
	// Every rebuild now fails to parse.
	g.plan.Description = &Description{}
	if err := g.plan.Description.Add(Element{Factory: "nosuchelement"}); err != nil {
		t.Fatal(err)
	}
	if err := g.InjectError(nameEncoder, "gone"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-g.Failed():
		if !strings.Contains(err.Error(), "could not be rebuilt") {
			t.Fatalf("Failed() said %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the graph neither rebuilt nor gave up")
	}
}

// A pulled sample is given back to GStreamer at once, not when Go's garbage
// collector gets round to it: with collection off, the number of live
// GstBuffers (GStreamer's leaks tracer counts them) stays flat while
// hundreds of pictures go through. The tracer must be set before GStreamer
// starts, so the check runs in a child test process.
func TestSamplesAreReleasedAtOnce(t *testing.T) {
	if os.Getenv("PIPCAM_LEAKS_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSamplesAreReleasedAtOnce$", "-test.v")
		cmd.Env = append(os.Environ(), "PIPCAM_LEAKS_CHILD=1", "GST_TRACERS=leaks(filters=GstBuffer)", "GST_DEBUG=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "live buffers:") {
			t.Fatalf("child did not measure:\n%s", out)
		}
		t.Logf("%s", out)
		return
	}
	debug.SetGCPercent(-1)
	defer debug.SetGCPercent(100)
	cfg := testConfig()
	cfg.Output.Framerate = 30
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	g, err := New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	aus, unsub := g.Subscribe(512)
	defer unsub()
	nextAUs(t, aus, 30)
	if _, ok := BufferGrowth(); !ok { // starts counting
		t.Fatal("the leaks tracer is not running")
	}
	nextAUs(t, aus, 300)
	growth, _ := BufferGrowth()
	t.Logf("live buffers: %+d over 300 pictures", growth)
	if growth > 40 {
		t.Fatalf("%d more GstBuffers alive after 300 pictures: samples are held until GC", growth)
	}
}

// An MJPEG subscriber keeps its subscription across a rebuild and gets
// pictures from the new pipeline; a snapshot afterwards works.
func TestJPEGSurvivesARebuild(t *testing.T) {
	g := startGraph(t, testConfig())
	frames, cancel, err := g.SubscribeJPEG(4)
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	next := func(what string) {
		t.Helper()
		select {
		case b, ok := <-frames:
			if !ok || len(b) < 100 || b[0] != 0xff || b[1] != 0xd8 {
				t.Fatalf("%s: not a JPEG (open %v, %d bytes)", what, ok, len(b))
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: no JPEG", what)
		}
	}
	next("before")
	if err := g.InjectError(nameEncoder, "gone"); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, g, 30*time.Second, "a rebuilt graph", func(st Status) bool { return st.Rebuilds == 1 && st.Playing })
	for len(frames) > 0 {
		<-frames
	}
	next("after the rebuild")
	ctx, cancelCtx := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelCtx()
	if _, err := g.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
}
