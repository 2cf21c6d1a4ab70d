package main

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"io"
	"net/http"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pipcam/pipcam/internal/viewer"
)

// These run the real daemon (GStreamer graph, x264enc, jpegenc) and read
// its snapshots and MJPEG the way OctoPrint, Mainsail, Fluidd and ffmpeg do.

func getSnapshot(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("GET %s: %d %s %q", url, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	return body
}

func TestSnapshotsFromTheComposite(t *testing.T) {
	cfg := testConfig()
	d := startTestDaemon(t, cfg)
	base := "http://" + d.HTTPAddr()

	// 20 clients at once (a crowd of Mainsail tabs polling): one encode.
	// First thing, so no earlier picture can be reused.
	before := d.graph.JPEGEncodes()
	var wg sync.WaitGroup
	bodies := make([][]byte, 20)
	start := make(chan struct{})
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, err := http.Get(fmt.Sprintf("%s/?action=snapshot&cacheBust=%d", base, i))
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("snapshot %d: %d", i, resp.StatusCode)
			}
			bodies[i], _ = io.ReadAll(resp.Body)
		}()
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for i := range bodies {
		if !bytes.Equal(bodies[i], bodies[0]) || len(bodies[i]) == 0 {
			t.Fatalf("snapshot %d differs from snapshot 0", i)
		}
	}
	if n := d.graph.JPEGEncodes() - before; n != 1 {
		t.Fatalf("20 parallel snapshots cost %d JPEG encodes, want 1", n)
	}

	for _, path := range []string{"/?action=snapshot", "/?action=snapshot&bypassCache=1712345678901", "/snapshot.jpg", "/snapshot"} {
		img, err := jpeg.Decode(bytes.NewReader(getSnapshot(t, base+path)))
		if err != nil {
			t.Fatalf("GET %s: not a JPEG: %v", path, err)
		}
		if b := img.Bounds(); b.Dx() != cfg.Output.Width || b.Dy() != cfg.Output.Height {
			t.Fatalf("GET %s: %dx%d, want the composite's %dx%d", path, b.Dx(), b.Dy(), cfg.Output.Width, cfg.Output.Height)
		}
	}
}

// ffmpeg reads /?action=stream as a client would, at the configured rate,
// and decodes every picture at the composite size.
func TestMJPEGReadByFFmpeg(t *testing.T) {
	cfg := testConfig()
	cfg.JPEG.Framerate = 5
	d := startTestDaemon(t, cfg)
	url := "http://" + d.HTTPAddr() + "/?action=stream"
	need(t, "ffprobe")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-f", "mpjpeg", "-use_wallclock_as_timestamps", "1",
		"-show_entries", "packet=pts_time", "-of", "csv=p=0", "-read_intervals", "%+#16", url).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", url, err)
	}
	var times []float64
	for _, line := range strings.Fields(string(out)) {
		v, err := strconv.ParseFloat(strings.TrimSuffix(line, ","), 64)
		if err == nil {
			times = append(times, v)
		}
	}
	if len(times) != 16 {
		t.Fatalf("ffprobe read %d pictures, want 16:\n%s", len(times), out)
	}
	var steps []float64
	for i := 1; i < len(times); i++ {
		steps = append(steps, times[i]-times[i-1])
	}
	sort.Float64s(steps)
	if med := steps[len(steps)/2]; med < 0.16 || med > 0.24 {
		t.Fatalf("median interval %.3f s, want 0.2 s (5 fps)", med)
	}

	frame := cfg.Output.Width * cfg.Output.Height * 3
	raw, err := exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-f", "mpjpeg", "-i", url,
		"-frames:v", "5", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1").Output()
	if err != nil || len(raw) != 5*frame {
		t.Fatalf("ffmpeg decoded %d bytes (%v), want 5 pictures of %dx%d", len(raw), err, cfg.Output.Width, cfg.Output.Height)
	}
	waitJPEGSubscribers(t, d, 0)
}

// A client that stops reading is dropped; a WebRTC viewer watching at the
// same time sees no gap longer than 200 ms.
func TestStuckMJPEGClientLeavesWebRTCAlone(t *testing.T) {
	cfg := testConfig()
	cfg.JPEG.Framerate = 15 // as much MJPEG as the output has: the most pressure
	cfg.JPEG.Quality = 100
	d := startTestDaemon(t, cfg)
	base := "http://" + d.HTTPAddr()
	v := watch(t, base)

	var (
		mu      sync.Mutex
		maxGap  time.Duration
		last    time.Time
		arrived int
	)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case au := <-v.AUs():
				mu.Lock()
				if !last.IsZero() {
					maxGap = max(maxGap, au.Arrival.Sub(last))
				}
				last = au.Arrival
				arrived++
				mu.Unlock()
			case <-stop:
				return
			}
		}
	}()

	conn, err := viewer.OpenStuckMJPEG(d.HTTPAddr(), "/?action=stream")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	waitJPEGSubscribers(t, d, 1)
	dropped := time.Now()
	waitJPEGSubscribers(t, d, 0) // the server gave up on it
	t.Logf("stuck MJPEG client dropped %.1f s after it was seen", time.Since(dropped).Seconds())
	close(stop)
	<-done

	mu.Lock()
	defer mu.Unlock()
	if arrived < 30 {
		t.Fatalf("the WebRTC viewer got only %d access units meanwhile", arrived)
	}
	if maxGap > 200*time.Millisecond {
		t.Fatalf("the WebRTC viewer saw a %s gap while an MJPEG client was stuck", maxGap)
	}
	t.Logf("WebRTC viewer: %d access units, longest gap %s", arrived, maxGap.Round(time.Millisecond))
}

func waitJPEGSubscribers(t *testing.T, d *daemon, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for d.graph.JPEGSubscribers() != n {
		if time.Now().After(deadline) {
			t.Fatalf("MJPEG subscribers %d after 60 s, want %d", d.graph.JPEGSubscribers(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// need fails the test, naming the tool, when it is not installed.
func need(t *testing.T, tool string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		t.Fatalf("%s not installed: run make deps", tool)
	}
}
