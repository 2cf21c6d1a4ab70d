package compositor

import (
	"fmt"
	"math"

	"github.com/pipcam/pipcam/configs"
)

// The overlay: the status text (textoverlay after the mixer) and the
// progress bar (two tiny solid-colour sources on their own compositor pads,
// scaled by the mixer: the track across the picture and the done part
// whose width follows the progress). Both change live.

// BarPlan names the progress bar's elements and compositor pads.
type BarPlan struct {
	Track, Fill barPart
}

type barPart struct {
	Source string // its videotestsrc
	Pad    string // its compositor sink pad
}

// textProps are textoverlay's properties for an overlay style.
func textProps(o configs.Overlay, out configs.Output) []Prop {
	valign, halign := cornerAlign(o.Position)
	return []Prop{
		{"font-desc", Str(o.FontDesc(out))},
		{"valignment", Enum(valign)},
		{"halignment", Enum(halign)},
		{"color", Int(o.Color.ARGB())},
		{"shaded-background", Bool(o.Shade > 0)},
		{"shading-value", Int(max(o.Shade, 1))},
		// The size is pipcam's (FontDesc fits it to the picture), not
		// scaled again by textoverlay.
		{"auto-resize", Bool(false)},
		{"xpad", Int(8)},
		{"ypad", Int(6)},
	}
}

// barChain is one part of the bar: a 16x2 solid colour, live at the output
// rate (slower sources hold the live mixer back), that the mixer scales to
// its pad's size. The colour's opacity is the pad's alpha.
func barChain(part barPart, c configs.Color, fps int) []Item {
	return []Item{
		Element{Factory: "videotestsrc", Name: part.Source, Props: []Prop{
			{"is-live", Bool(true)},
			{"pattern", Enum("solid-color")},
			{"foreground-color", Int(opaque(c))},
		}},
		Caps{Media: "video/x-raw", Fields: []Prop{
			{"width", Int(16)},
			{"height", Int(2)},
			{"framerate", Fraction{fps, 1}},
		}},
		Element{Factory: "queue", Props: leakyQueue(1)},
		PadRef{Element: nameMixer, Pad: part.Pad},
	}
}

func opaque(c configs.Color) uint32 { return c.ARGB() | 0xff000000 }

// barGeometry places the track and the done part for a progress of 0-1;
// a negative or NaN progress (no job) or a bar switched off hides both.
func barGeometry(b configs.ProgressBar, out configs.Output, progress float64) (track, fill PadGeometry) {
	y := out.Height - b.Height
	if b.Position == configs.EdgeTop {
		y = 0
	}
	track = PadGeometry{X: 0, Y: y, Width: out.Width, Height: b.Height, ZOrder: 10}
	fill = PadGeometry{X: 0, Y: y, Width: 1, Height: b.Height, ZOrder: 11}
	if !b.Show || progress < 0 || math.IsNaN(progress) {
		return track, fill // alpha 0: the mixer skips them
	}
	track.Alpha = b.Track.Opacity()
	fill.Alpha = b.Color.Opacity()
	fill.Width = max(int(math.Round(min(progress, 1)*float64(out.Width))), 1)
	if progress <= 0 {
		fill.Alpha = 0
	}
	return track, fill
}

// SetProgress shows the print's progress (0-1) in the bar; a negative
// value hides the bar (no job).
func (g *Graph) SetProgress(fraction float64) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cur != nil {
		if err := g.cur.applyBar(g.style.ProgressBar, fraction); err != nil {
			return err
		}
	}
	g.progress = fraction
	g.settings++
	return nil
}

// Progress is the progress the bar now shows (negative: hidden).
func (g *Graph) Progress() float64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.progress
}

// OverlayStyle is the overlay's look now (its Text field is not used).
func (g *Graph) OverlayStyle() configs.Overlay {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.style
}

// SetOverlayStyle changes the font, size, position, colours, shading and
// progress bar while playing. If it cannot be applied whole, the previous
// style is put back and stays the one reported.
func (g *Graph) SetOverlayStyle(o configs.Overlay) error {
	if err := o.ValidateStyle(); err != nil {
		return err
	}
	o.Text = ""
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cur != nil {
		if err := g.cur.applyStyle(o, g.progress); err != nil {
			if rerr := g.cur.applyStyle(g.style, g.progress); rerr != nil {
				g.log.Error("restore overlay style", "error", rerr)
			}
			return err
		}
	}
	g.style = o
	g.settings++
	return nil
}

// applyStyle sets the text's look and the bar's colours and place.
func (r *run) applyStyle(o configs.Overlay, progress float64) error {
	// gst_util_set_object_arg parses each value as its property's type
	// (enum nick, unsigned, boolean), as gst-launch does: the same words
	// the graph description starts with.
	for _, p := range textProps(o, r.g.cfg.Output) {
		v := p.Value.render()
		if str, ok := p.Value.(Str); ok {
			v = string(str)
		}
		r.overlay.SetArg(p.Key, v)
	}
	for name, c := range map[string]configs.Color{r.g.plan.Bar.Track.Source: o.ProgressBar.Track, r.g.plan.Bar.Fill.Source: o.ProgressBar.Color} {
		src, err := r.pipeline.GetElementByName(name)
		if err != nil {
			return fmt.Errorf("progress bar %s: %w", name, err)
		}
		if err := src.SetProperty("foreground-color", uint(opaque(c))); err != nil {
			return fmt.Errorf("progress bar %s colour: %w", name, err)
		}
	}
	return r.applyBar(o.ProgressBar, progress)
}

func (r *run) applyBar(b configs.ProgressBar, progress float64) error {
	track, fill := barGeometry(b, r.g.cfg.Output, progress)
	if err := r.setPad(r.g.plan.Bar.Track.Pad, track); err != nil {
		return err
	}
	return r.setPad(r.g.plan.Bar.Fill.Pad, fill)
}
