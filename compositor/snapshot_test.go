package compositor

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pipcam/pipcam/configs"
)

// One graph for the whole JPEG story, in the order a day goes: idle, a
// crowd of snapshots, a snapshot after a quiet spell, MJPEG viewers (one of
// them stuck), idle again, and the graph closing under a viewer.
func TestJPEGBranchRunsOnlyOnDemand(t *testing.T) {
	g := startGraph(t, testConfig())
	aus, cancelAUs := g.Subscribe(256)
	defer cancelAUs()

	t.Run("idle costs no encode", func(t *testing.T) {
		nextAUs(t, aus, 15) // a second of stream with nobody asking
		if n := g.JPEGEncodes(); n != 0 {
			t.Fatalf("%d JPEG encodes with nobody asking", n)
		}
		assertValveClosed(t, g)
	})

	t.Run("20 parallel snapshots share one encode", func(t *testing.T) {
		before := g.JPEGEncodes()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		got := make([][]byte, 20)
		errs := make([]error, 20)
		start := make(chan struct{})
		for i := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				got[i], errs[i] = g.Snapshot(ctx)
			}()
		}
		close(start)
		wg.Wait()
		for i := range got {
			if errs[i] != nil {
				t.Fatalf("snapshot %d: %v", i, errs[i])
			}
			if !bytes.Equal(got[i], got[0]) {
				t.Fatalf("snapshot %d differs from snapshot 0: not one shared encode", i)
			}
		}
		img := decodeJPEG(t, got[0])
		if b := img.Bounds(); b.Dx() != 320 || b.Dy() != 240 {
			t.Fatalf("snapshot is %dx%d, want the composite's 320x240", b.Dx(), b.Dy())
		}
		if n := g.JPEGEncodes() - before; n != 1 {
			t.Fatalf("20 parallel snapshots took %d encodes, want 1", n)
		}
		assertValveClosed(t, g)
	})

	t.Run("a snapshot after a quiet spell shows now, not then", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c := jpegPixel(t, snapshot(t, ctx, g), 40, 200); !c.isRed() {
			t.Fatalf("main area is %+v, want camera a's red", c)
		}
		// Two seconds pass with the branch closed; then camera b goes full
		// frame. Whatever the branch still held from before is red.
		nextAUs(t, aus, 30)
		l := g.Layout()
		l.Main, l.Inset, l.Mode = "b", "a", configs.LayoutSingle
		if err := g.SetLayout(l); err != nil {
			t.Fatal(err)
		}
		drain(aus)
		nextAUs(t, aus, 8) // the new layout is in the picture by now
		if c := jpegPixel(t, snapshot(t, ctx, g), 40, 200); !c.isGreen() {
			t.Fatalf("snapshot after the layout change shows %+v, want camera b's green: an old picture", c)
		}
	})

	t.Run("MJPEG runs at its rate and a stuck viewer holds nobody up", func(t *testing.T) {
		stuck, cancelStuck, err := g.SubscribeJPEG(1) // never read
		if err != nil {
			t.Fatal(err)
		}
		frames, cancelFrames, err := g.SubscribeJPEG(4)
		if err != nil {
			t.Fatal(err)
		}
		<-frames // the branch is running
		drain(aus)
		// Count JPEGs against access units over the same stretch: 45 AUs
		// are 3 s of stream at 15 fps, which should carry 15 JPEGs at 5 fps.
		n, nAU := 0, 0
		deadline := time.After(20 * time.Second)
		for nAU < 45 {
			select {
			case <-aus:
				nAU++
			case <-frames:
				n++
			case <-deadline:
				t.Fatalf("only %d access units and %d JPEGs in 20 s", nAU, n)
			}
		}
		if n < 12 || n > 18 {
			t.Fatalf("%d JPEGs during 45 access units, want about 15 (5 fps against 15)", n)
		}
		if len(stuck) != 1 {
			t.Fatalf("the stuck subscriber holds %d pictures, want its buffer of 1 full", len(stuck))
		}
		cancelStuck()
		cancelFrames()
		if _, ok := <-frames; ok {
			// One picture may have been queued before cancel; the channel
			// must be closed right after it.
			if _, ok := <-frames; ok {
				t.Fatal("subscription still delivering after cancel")
			}
		}
		waitValveClosed(t, g)
	})

	t.Run("closing the graph ends a subscription", func(t *testing.T) {
		frames, _, err := g.SubscribeJPEG(1)
		if err != nil {
			t.Fatal(err)
		}
		g.Close()
		for range frames { // closed, after at most the picture it holds
		}
		if _, err := g.Snapshot(context.Background()); !errors.Is(err, ErrJPEGClosed) {
			t.Fatalf("snapshot on a closed graph: %v, want ErrJPEGClosed", err)
		}
	})
}

func TestJPEGTurnedOff(t *testing.T) {
	cfg := testConfig()
	cfg.JPEG.Enabled = false
	plan, err := Build(cfg, Exists)
	if err != nil {
		t.Fatal(err)
	}
	if line := plan.Description.String(); strings.Contains(line, "jpegenc") || strings.Contains(line, nameJPEGValve) {
		t.Fatalf("jpeg.enabled false still builds a JPEG branch: %s", line)
	}
	s := &snapshotter{}
	if _, err := s.take(context.Background()); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("snapshot with JPEG off: %v, want errors.ErrUnsupported", err)
	}
	if _, _, err := s.subscribe(1); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("MJPEG with JPEG off: %v, want errors.ErrUnsupported", err)
	}
}

func TestJPEGChainSettings(t *testing.T) {
	cfg := testConfig()
	cfg.JPEG.Quality = 60
	line := Chain(jpegChain(cfg)).render()
	for _, want := range []string{"valve name=jpegvalve drop=true", "jpegenc quality=60", "appsink name=jpegsink"} {
		if !strings.Contains(line, want) {
			t.Errorf("JPEG chain lacks %q: %s", want, line)
		}
	}
}

func snapshot(t *testing.T, ctx context.Context, g *Graph) []byte {
	t.Helper()
	b, err := g.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeJPEG(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a JPEG: %v", err)
	}
	return img
}

func jpegPixel(t *testing.T, b []byte, x, y int) rgb {
	t.Helper()
	r, g, bl, _ := decodeJPEG(t, b).At(x, y).RGBA()
	return rgb{int(r >> 8), int(g >> 8), int(bl >> 8)}
}

func assertValveClosed(t *testing.T, g *Graph) {
	t.Helper()
	if v, _ := g.jpeg.valve.GetProperty("drop"); v != true {
		t.Fatalf("JPEG valve open (drop=%v) with nobody asking", v)
	}
}

// waitValveClosed allows the pull goroutine its poll interval to notice.
func waitValveClosed(t *testing.T, g *Graph) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if v, _ := g.jpeg.valve.GetProperty("drop"); v == true {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("JPEG valve still open 5 s after the last viewer left")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
