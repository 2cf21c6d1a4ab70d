package configs

import "go.yaml.in/yaml/v3"

// LayoutMode is how the two cameras share the picture.
type LayoutMode string

const (
	LayoutPiP        LayoutMode = "pip"          // main full frame, inset in a corner
	LayoutSingle     LayoutMode = "single"       // main only
	LayoutSideBySide LayoutMode = "side-by-side" // main left, inset right
)

var layoutModes = []LayoutMode{LayoutPiP, LayoutSingle, LayoutSideBySide}

func (m LayoutMode) check() error { return checkEnum(m, "layout mode", layoutModes) }

func (m *LayoutMode) UnmarshalYAML(n *yaml.Node) error {
	v, err := decodeYAMLEnum(n, "layout mode", layoutModes, false)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// UnmarshalJSON rejects unknown modes, so a bad PUT /api/layout fails at
// decoding with a message naming the valid ones.
func (m *LayoutMode) UnmarshalJSON(data []byte) error {
	v, err := decodeJSONEnum(data, *m, "layout mode", layoutModes)
	if err != nil {
		return err
	}
	*m = v
	return nil
}
