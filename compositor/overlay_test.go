package compositor

import (
	"math"
	"testing"

	"github.com/pipcam/pipcam/configs"
)

// near says whether a decoded pixel is within tol of a colour (the H.264
// round trip through 4:2:0 moves colours a little).
func near(c rgb, r, g, b, tol int) bool {
	d := func(a, b int) int { return int(math.Abs(float64(a - b))) }
	return d(c.r, r) <= tol && d(c.g, g) <= tol && d(c.b, b) <= tol
}

func TestBarGeometry(t *testing.T) {
	out := configs.Output{Width: 640, Height: 480, Framerate: 15}
	bar := configs.Default().Overlay.ProgressBar
	tests := []struct {
		name        string
		mod         func(*configs.ProgressBar)
		progress    float64
		track, fill PadGeometry
	}{
		{"no job", nil, -1, PadGeometry{0, 474, 640, 6, 10, 0}, PadGeometry{0, 474, 1, 6, 11, 0}},
		{"NaN", nil, math.NaN(), PadGeometry{0, 474, 640, 6, 10, 0}, PadGeometry{0, 474, 1, 6, 11, 0}},
		{"0 %", nil, 0, PadGeometry{0, 474, 640, 6, 10, 128.0 / 255}, PadGeometry{0, 474, 1, 6, 11, 0}},
		{"42 %", nil, 0.42, PadGeometry{0, 474, 640, 6, 10, 128.0 / 255}, PadGeometry{0, 474, 269, 6, 11, 1}},
		{"100 %", nil, 1, PadGeometry{0, 474, 640, 6, 10, 128.0 / 255}, PadGeometry{0, 474, 640, 6, 11, 1}},
		{"over 100 %", nil, 1.5, PadGeometry{0, 474, 640, 6, 10, 128.0 / 255}, PadGeometry{0, 474, 640, 6, 11, 1}},
		{"top, 10 px", func(b *configs.ProgressBar) { b.Position, b.Height = configs.EdgeTop, 10 }, 0.5,
			PadGeometry{0, 0, 640, 10, 10, 128.0 / 255}, PadGeometry{0, 0, 320, 10, 11, 1}},
		{"switched off", func(b *configs.ProgressBar) { b.Show = false }, 0.5, PadGeometry{0, 474, 640, 6, 10, 0}, PadGeometry{0, 474, 1, 6, 11, 0}},
	}
	for _, tt := range tests {
		b := bar
		if tt.mod != nil {
			tt.mod(&b)
		}
		track, fill := barGeometry(b, out, tt.progress)
		if track != tt.track || fill != tt.fill {
			t.Errorf("%s: track %+v fill %+v, want %+v %+v", tt.name, track, fill, tt.track, tt.fill)
		}
	}
}

// The bar is drawn in the picture and follows the progress live.
func TestProgressBarInThePicture(t *testing.T) {
	g := startGraph(t, testConfig())
	aus, cancel := g.Subscribe(64)
	defer cancel()
	const y = 237 // the middle of the 6-pixel bar at the bottom of 240 lines
	frame := decodeLast(t, fromKeyframe(t, g, aus, 10), 320, 240)
	if c := pixel(frame, 320, 20, y); !c.isRed() {
		t.Fatalf("no job yet, but the bar's place is %+v, not the red camera", c)
	}
	if err := g.SetProgress(0.25); err != nil {
		t.Fatal(err)
	}
	frame = decodeLast(t, fromKeyframe(t, g, aus, 10), 320, 240)
	// Done part (0-80): #2ea043; the rest: red under a half-black track.
	if c := pixel(frame, 320, 40, y); !near(c, 0x2e, 0xa0, 0x43, 40) {
		t.Fatalf("25 %%: done part is %+v, want the bar colour", c)
	}
	if c := pixel(frame, 320, 200, y); !near(c, 128, 0, 0, 45) {
		t.Fatalf("25 %%: rest of the bar is %+v, want red darkened by the track", c)
	}
	if err := g.SetProgress(0.75); err != nil {
		t.Fatal(err)
	}
	frame = decodeLast(t, fromKeyframe(t, g, aus, 10), 320, 240)
	if c := pixel(frame, 320, 200, y); !near(c, 0x2e, 0xa0, 0x43, 40) {
		t.Fatalf("75 %%: x=200 is %+v, want the bar colour", c)
	}
	if err := g.SetProgress(-1); err != nil {
		t.Fatal(err)
	}
	frame = decodeLast(t, fromKeyframe(t, g, aus, 10), 320, 240)
	if c := pixel(frame, 320, 40, y); !c.isRed() {
		t.Fatalf("bar hidden again, but x=40 is %+v", c)
	}
}

// Position, colour and shading change while playing.
func TestOverlayStyleChangesLive(t *testing.T) {
	cfg := testConfig()
	cfg.Overlay.Shade = 0
	g := startGraph(t, cfg)
	if err := g.SetText("PIPCAM 42%"); err != nil {
		t.Fatal(err)
	}
	aus, cancel := g.Subscribe(64)
	defer cancel()
	before := decodeLast(t, fromKeyframe(t, g, aus, 10), 320, 240)
	if n := nonRed(before, 320, 0, 0, 160, 40); n < 50 {
		t.Fatalf("top-left holds only %d non-red pixels: where is the text?", n)
	}
	st := g.OverlayStyle()
	st.Position = configs.CornerTopRight
	st.Color = "#ffff00"
	st.Size = 14
	st.ProgressBar.Position = configs.EdgeTop
	if err := g.SetOverlayStyle(st); err != nil {
		t.Fatal(err)
	}
	if err := g.SetProgress(0.5); err != nil {
		t.Fatal(err)
	}
	r := g.current()
	if v, _ := r.overlay.GetProperty("color"); v != uint(0xffffff00) {
		t.Fatalf("textoverlay color %v, want yellow", v)
	}
	if v, _ := r.overlay.GetProperty("font-desc"); v != "Sans Bold 14" {
		t.Fatalf("font-desc %v", v)
	}
	after := decodeLast(t, fromKeyframe(t, g, aus, 10), 320, 240)
	if n := nonRed(after, 320, 0, 12, 120, 40); n != 0 {
		t.Fatalf("text moved away, yet %d non-red pixels stay top-left", n)
	}
	yellow := 0
	for y := 12; y < 40; y++ {
		for x := 160; x < 320; x++ {
			if c := pixel(after, 320, x, y); c.r > 180 && c.g > 180 && c.b < 100 {
				yellow++
			}
		}
	}
	if yellow < 30 {
		t.Fatalf("only %d yellow pixels top-right", yellow)
	}
	if c := pixel(after, 320, 40, 3); !near(c, 0x2e, 0xa0, 0x43, 40) {
		t.Fatalf("bar moved to the top, but (40,3) is %+v", c)
	}
	bad := st
	bad.Color = "yellow"
	if err := g.SetOverlayStyle(bad); err == nil {
		t.Fatal("a bad colour was accepted")
	}
	if g.OverlayStyle().Color != "#ffff00" {
		t.Fatal("a rejected style changed the style")
	}
}
