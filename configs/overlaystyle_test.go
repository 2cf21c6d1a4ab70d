package configs

import (
	"strings"
	"testing"
)

func TestOverlayStyleRules(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string // "" = valid
	}{
		{"every setting", lines("overlay:", "  font: Monospace Bold", "  size: 24", "  position: bottom-right",
			"  color: \"#ffcc00\"", "  shade: 0", "  progress_bar:", "    show: false", "    position: top",
			"    height: 10", "    color: \"#112233\"", "    track: \"#11223344\""), ""},
		{"font with a size", lines("overlay:", "  font: Sans 12"), "pipcam.yaml:2: overlay.font: \"Sans 12\" ends in a size; give the size as overlay.size"},
		{"font quote", lines("overlay:", "  font: 'Sans\"'"), "pipcam.yaml:2: overlay.font:"},
		{"size small", lines("overlay:", "  size: 3"), "pipcam.yaml:2: overlay.size: must be 0 (fit the picture) or 4-200 points, got 3"},
		{"size big", lines("overlay:", "  size: 201"), "pipcam.yaml:2: overlay.size:"},
		{"color name", lines("overlay:", "  color: red"), "pipcam.yaml:2: overlay.color: color \"red\" must be #rrggbb or #rrggbbaa"},
		{"color short", lines("overlay:", "  color: \"#fff\""), "pipcam.yaml:2: overlay.color:"},
		{"color not hex", lines("overlay:", "  color: \"#ggffff\""), "pipcam.yaml:2: overlay.color:"},
		{"shade", lines("overlay:", "  shade: 256"), "pipcam.yaml:2: overlay.shade: must be 0 (no box) to 255 (black box), got 256"},
		{"bar edge", lines("overlay:", "  progress_bar:", "    position: left"), "pipcam.yaml:3: overlay.progress_bar.position: unknown edge \"left\" (valid: top, bottom)"},
		{"bar height", lines("overlay:", "  progress_bar:", "    height: 1"), "pipcam.yaml:3: overlay.progress_bar.height: must be 2-64 pixels, got 1"},
		{"bar track", lines("overlay:", "  progress_bar:", "    track: black"), "pipcam.yaml:3: overlay.progress_bar.track:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErr(t, tt.doc)
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestColorAndFont(t *testing.T) {
	for c, want := range map[Color]uint32{"#ffffff": 0xffffffff, "#2ea043": 0xff2ea043, "#00000080": 0x80000000, "#12345678": 0x78123456, "bad": 0xff000000} {
		if got := c.ARGB(); got != want {
			t.Errorf("%s.ARGB() = %#x, want %#x", c, got, want)
		}
	}
	if o := Color("#00000080").Opacity(); o < 0.50 || o > 0.51 {
		t.Errorf("opacity %v", o)
	}
	o := Overlay{Font: "Sans Bold"}
	if got := o.FontDesc(Output{Height: 480}); got != "Sans Bold 16" {
		t.Errorf("fitted font %q", got)
	}
	if got := o.FontDesc(Output{Height: 120}); got != "Sans Bold 8" {
		t.Errorf("small picture font %q", got)
	}
	o.Size = 30
	if got := o.FontDesc(Output{Height: 480}); got != "Sans Bold 30" {
		t.Errorf("sized font %q", got)
	}
	if err := (Overlay{Font: "Sans", Position: CornerTopLeft, Color: "#fff", ProgressBar: Default().Overlay.ProgressBar}).ValidateStyle(); err == nil || !strings.Contains(err.Error(), "color:") {
		t.Errorf("ValidateStyle: %v", err)
	}
}
