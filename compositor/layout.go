package compositor

import (
	"github.com/pipcam/pipcam/configs"
)

// PadGeometry is where one camera lands in the composite: the compositor
// sink pad's xpos, ypos, width, height, zorder and alpha.
type PadGeometry struct {
	X, Y, Width, Height int
	ZOrder              uint
	Alpha               float64
}

// Geometry places every camera for a layout. It is pure arithmetic so the
// same numbers serve print-pipeline, the live pad update and the tests.
// Cameras keep their aspect ratio (letterboxed in their box); sizes are even
// because the encoders work on 4:2:0 pictures.
func Geometry(l configs.Layout, out configs.Output, cams []configs.Camera) map[string]PadGeometry {
	g := make(map[string]PadGeometry, len(cams))
	for _, c := range cams {
		// Hidden unless the layout shows it: alpha 0 makes the compositor skip it.
		w, h := c.PictureSize(out)
		g[c.Name] = PadGeometry{Width: even(w), Height: even(h), Alpha: 0}
	}
	aspect := func(name string) (int, int) {
		for _, c := range cams {
			if c.Name == name {
				return c.PictureSize(out)
			}
		}
		return out.Width, out.Height
	}
	W, H := out.Width, out.Height

	switch l.Mode {
	case configs.LayoutSideBySide:
		half := W / 2
		cw, ch := aspect(l.Main)
		g[l.Main] = fit(cw, ch, 0, 0, half, H, 1)
		if l.Inset != "" {
			cw, ch = aspect(l.Inset)
			g[l.Inset] = fit(cw, ch, half, 0, W-half, H, 1)
		}
	default: // pip and single both show main full frame
		cw, ch := aspect(l.Main)
		g[l.Main] = fit(cw, ch, 0, 0, W, H, 1)
		if l.Mode == configs.LayoutPiP && l.Inset != "" {
			g[l.Inset] = insetBox(l, W, H, aspect)
		}
	}
	return g
}

// insetBox sizes the inset to Size of the output width, keeps its aspect,
// and puts it in the chosen corner, Margin pixels in from both edges.
func insetBox(l configs.Layout, W, H int, aspect func(string) (int, int)) PadGeometry {
	cw, ch := aspect(l.Inset)
	w := even(int(float64(W)*l.Size + 0.5))
	h := even(w * ch / max(cw, 1))
	if maxH := H - 2*l.Margin; h > maxH { // a tall camera in a wide frame
		h = even(maxH)
		w = even(h * cw / max(ch, 1))
	}
	w, h = max(w, 2), max(h, 2)
	x, y := l.Margin, l.Margin
	switch l.Corner {
	case configs.CornerTopRight:
		x = W - w - l.Margin
	case configs.CornerBottomLeft:
		y = H - h - l.Margin
	case configs.CornerBottomRight:
		x, y = W-w-l.Margin, H-h-l.Margin
	}
	return PadGeometry{X: x, Y: y, Width: w, Height: h, ZOrder: 2, Alpha: 1}
}

// fit letterboxes a cw x ch picture into the box, centred.
func fit(cw, ch, bx, by, bw, bh int, z uint) PadGeometry {
	w, h := bw, bw*ch/max(cw, 1)
	if h > bh {
		w, h = bh*cw/max(ch, 1), bh
	}
	w, h = even(w), even(h)
	return PadGeometry{X: bx + (bw-w)/2, Y: by + (bh-h)/2, Width: w, Height: h, ZOrder: z, Alpha: 1}
}

func even(n int) int { return n &^ 1 }
