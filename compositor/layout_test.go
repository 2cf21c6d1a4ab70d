package compositor

import (
	"testing"

	"github.com/pipcam/pipcam/configs"
)

func TestGeometry(t *testing.T) {
	out := configs.Output{Width: 640, Height: 480, Framerate: 15}
	cams := []configs.Camera{{Name: "a"}, {Name: "b"}}
	wide := []configs.Camera{{Name: "a"}, {Name: "b", Width: 1280, Height: 720}}
	pip := configs.Layout{Mode: configs.LayoutPiP, Main: "a", Inset: "b", Corner: configs.CornerBottomRight, Size: 0.3, Margin: 16}
	with := func(f func(*configs.Layout)) configs.Layout { l := pip; f(&l); return l }

	tests := []struct {
		name   string
		layout configs.Layout
		cams   []configs.Camera
		want   map[string]PadGeometry
	}{
		{"pip bottom-right", pip, cams, map[string]PadGeometry{
			"a": {0, 0, 640, 480, 1, 1},
			"b": {640 - 192 - 16, 480 - 144 - 16, 192, 144, 2, 1},
		}},
		{"pip top-left", with(func(l *configs.Layout) { l.Corner = configs.CornerTopLeft }), cams, map[string]PadGeometry{
			"a": {0, 0, 640, 480, 1, 1},
			"b": {16, 16, 192, 144, 2, 1},
		}},
		{"pip top-right swapped", with(func(l *configs.Layout) { l.Corner = configs.CornerTopRight; l.Main, l.Inset = "b", "a" }), cams, map[string]PadGeometry{
			"b": {0, 0, 640, 480, 1, 1},
			"a": {640 - 192 - 16, 16, 192, 144, 2, 1},
		}},
		{"pip bottom-left 16:9 inset keeps aspect", with(func(l *configs.Layout) { l.Corner = configs.CornerBottomLeft; l.Size = 0.5; l.Margin = 0 }), wide, map[string]PadGeometry{
			"a": {0, 0, 640, 480, 1, 1},
			"b": {0, 480 - 180, 320, 180, 2, 1},
		}},
		{"16:9 main is letterboxed", with(func(l *configs.Layout) { l.Main, l.Inset = "b", "a" }), wide, map[string]PadGeometry{
			"b": {0, 60, 640, 360, 1, 1},
			"a": {640 - 192 - 16, 480 - 144 - 16, 192, 144, 2, 1},
		}},
		{"single hides the inset", with(func(l *configs.Layout) { l.Mode = configs.LayoutSingle }), cams, map[string]PadGeometry{
			"a": {0, 0, 640, 480, 1, 1},
			"b": {0, 0, 640, 480, 0, 0},
		}},
		{"side by side", with(func(l *configs.Layout) { l.Mode = configs.LayoutSideBySide }), cams, map[string]PadGeometry{
			"a": {0, 120, 320, 240, 1, 1},
			"b": {320, 120, 320, 240, 1, 1},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Geometry(tt.layout, out, tt.cams)
			for name, want := range tt.want {
				if got[name] != want {
					t.Errorf("%s: got %+v, want %+v", name, got[name], want)
				}
			}
		})
	}
}

// Every placement stays inside the frame with even sizes, for any size,
// margin and corner a config can hold.
func TestGeometryStaysInFrame(t *testing.T) {
	out := configs.Output{Width: 320, Height: 240, Framerate: 15}
	cams := []configs.Camera{{Name: "a"}, {Name: "b", Width: 240, Height: 320}}
	for _, corner := range []configs.Corner{configs.CornerTopLeft, configs.CornerTopRight, configs.CornerBottomLeft, configs.CornerBottomRight} {
		for size := 0.1; size <= 0.5; size += 0.05 {
			for _, margin := range []int{0, 8, 50} {
				l := configs.Layout{Mode: configs.LayoutPiP, Main: "a", Inset: "b", Corner: corner, Size: size, Margin: margin}
				for name, g := range Geometry(l, out, cams) {
					if g.X < 0 || g.Y < 0 || g.X+g.Width > out.Width || g.Y+g.Height > out.Height || g.Width%2 != 0 || g.Height%2 != 0 || g.Width <= 0 {
						t.Fatalf("%+v: %s placed at %+v", l, name, g)
					}
				}
			}
		}
	}
}
