package configs

import "go.yaml.in/yaml/v3"

// TestPattern is a videotestsrc pattern nick, usable as-is in a
// gst-launch line (pattern=ball).
type TestPattern string

const (
	PatternSMPTE TestPattern = "smpte"
	PatternBall  TestPattern = "ball"
)

// testPatterns are videotestsrc's nicks, in its own order (0-24).
var testPatterns = []TestPattern{
	"smpte", "snow", "black", "white", "red", "green", "blue",
	"checkers-1", "checkers-2", "checkers-4", "checkers-8",
	"circular", "blink", "smpte75", "zone-plate", "gamut",
	"chroma-zone-plate", "solid-color", "ball", "smpte100", "bar",
	"pinwheel", "spokes", "gradient", "colors",
}

func (p TestPattern) check() error { return checkEnum(p, "test pattern", testPatterns) }

// UnmarshalYAML accepts "" as "not set": the camera defaults make it smpte.
func (p *TestPattern) UnmarshalYAML(n *yaml.Node) error {
	v, err := decodeYAMLEnum(n, "test pattern", testPatterns, true)
	if err != nil {
		return err
	}
	*p = v
	return nil
}

func (p *TestPattern) UnmarshalJSON(data []byte) error {
	v, err := decodeJSONEnum(data, *p, "test pattern", testPatterns)
	if err != nil {
		return err
	}
	*p = v
	return nil
}
