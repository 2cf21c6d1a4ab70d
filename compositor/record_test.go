package compositor

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pipcam/pipcam/internal/disktest"
	"github.com/pipcam/pipcam/internal/probe"
)

func recordingStatus(r *Recorder) RecordingStatus { return r.Status().(RecordingStatus) }

// A recording is the Graph's encode as a file ffprobe reads whole: the
// composite's size, as long as it was recorded, every picture decodable.
func TestRecordingIsPlayable(t *testing.T) {
	cfg := testConfig()
	g := startGraph(t, cfg)
	r, err := NewRecorder(g, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	path := filepath.Join(t.TempDir(), "print.mp4")
	if err := r.Start(path); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	if st := recordingStatus(r); st.State != RecordingActive || st.File != "print.mp4" {
		t.Fatalf("status while recording: %+v", st)
	}
	// Three seconds of a print, judged by the file growing past two
	// fragments, then a stop.
	deadline := time.Now().Add(20 * time.Second)
	for time.Since(started) < 3*time.Second || recordingStatus(r).Bytes == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the file is not growing: %+v", recordingStatus(r))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	recorded := time.Since(started)
	st := recordingStatus(r)
	if st.State != RecordingIdle || st.Bytes == 0 || st.Error != "" {
		t.Fatalf("status after the stop: %+v", st)
	}
	info, err := probe.File(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %s: %+v", recorded, info)
	if info.Video.Codec != "h264" || info.Video.Width != 320 || info.Video.Height != 240 || info.Errors != "" {
		t.Fatalf("ffprobe read %+v", info)
	}
	if d := info.Duration - recorded; d < -time.Second || d > time.Second {
		t.Fatalf("the file lasts %s, recorded for %s", info.Duration, recorded)
	}
	// 15 fps, less what is skipped to the first keyframe.
	if want := int(info.Duration.Seconds() * 15); info.Video.Frames < want*8/10 {
		t.Fatalf("%d frames in %s", info.Video.Frames, info.Duration)
	}
}

// A full disk stops the recording with the reason in status, keeps what
// was written playable, and the Graph goes on.
func TestFullDiskStopsTheRecordingOnly(t *testing.T) {
	cfg := testConfig()
	// Noise at 2 Mbit/s fills the small disk in a second or two.
	cfg.Cameras[0].Pattern = "snow"
	cfg.Encoder.BitrateKbps = 2000
	g := startGraph(t, cfg)
	aus, cancel := g.Subscribe(64)
	defer cancel()
	r, err := NewRecorder(g, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dir := disktest.Small(t, 256<<10)
	path := filepath.Join(dir, "print.mp4")
	if err := r.Start(path); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	st := recordingStatus(r)
	for st.State != RecordingFailed {
		if time.Now().After(deadline) {
			t.Fatalf("the disk never filled: %+v", st)
		}
		time.Sleep(100 * time.Millisecond)
		st = recordingStatus(r)
	}
	t.Logf("status: %+v", st)
	if !strings.Contains(st.Error, "full") || !strings.Contains(st.Error, dir) || st.File != "print.mp4" {
		t.Fatalf("the error does not say the disk is full: %+v", st)
	}
	drain(aus)
	nextAUs(t, aus, 15)
	info, err := probe.File(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Video.Frames == 0 {
		t.Fatalf("nothing playable was kept: %+v", info)
	}
}
