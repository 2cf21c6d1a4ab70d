package configs

import "go.yaml.in/yaml/v3"

// Corner is a corner of the picture, for the inset and the overlay text.
type Corner string

const (
	CornerTopLeft     Corner = "top-left"
	CornerTopRight    Corner = "top-right"
	CornerBottomLeft  Corner = "bottom-left"
	CornerBottomRight Corner = "bottom-right"
)

var corners = []Corner{CornerTopLeft, CornerTopRight, CornerBottomLeft, CornerBottomRight}

func (c Corner) check() error { return checkEnum(c, "corner", corners) }

func (c *Corner) UnmarshalYAML(n *yaml.Node) error {
	v, err := decodeYAMLEnum(n, "corner", corners, false)
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// UnmarshalJSON rejects unknown corners (PUT /api/layout).
func (c *Corner) UnmarshalJSON(data []byte) error {
	v, err := decodeJSONEnum(data, *c, "corner", corners)
	if err != nil {
		return err
	}
	*c = v
	return nil
}
