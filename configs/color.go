package configs

import (
	"encoding/json"
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Color is "#rrggbb" or "#rrggbbaa" (aa: opacity, ff = opaque), as CSS
// writes it.
type Color string

func parseColor(s string) (r, g, b, a uint8, err error) {
	if len(s) != 7 && len(s) != 9 || s[0] != '#' {
		return 0, 0, 0, 0, fmt.Errorf("color %q must be #rrggbb or #rrggbbaa", s)
	}
	v, perr := strconv.ParseUint(s[1:], 16, 32)
	if perr != nil {
		return 0, 0, 0, 0, fmt.Errorf("color %q must be #rrggbb or #rrggbbaa in hexadecimal", s)
	}
	if len(s) == 7 {
		v = v<<8 | 0xff
	}
	return uint8(v >> 24), uint8(v >> 16), uint8(v >> 8), uint8(v), nil
}

func (c Color) check() error {
	_, _, _, _, err := parseColor(string(c))
	return err
}

// ARGB is the colour as GStreamer's 0xAARRGGBB (textoverlay's color,
// videotestsrc's foreground-color). An invalid colour is opaque black.
func (c Color) ARGB() uint32 {
	r, g, b, a, err := parseColor(string(c))
	if err != nil {
		return 0xff000000
	}
	return uint32(a)<<24 | uint32(r)<<16 | uint32(g)<<8 | uint32(b)
}

// Opacity is the alpha as 0-1.
func (c Color) Opacity() float64 { return float64(c.ARGB()>>24) / 255 }

func (c *Color) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	if err := Color(s).check(); err != nil {
		return err
	}
	*c = Color(s)
	return nil
}

func (c *Color) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("color must be a JSON string: %w", err)
	}
	if err := Color(s).check(); err != nil {
		return err
	}
	*c = Color(s)
	return nil
}
