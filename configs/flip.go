package configs

import "go.yaml.in/yaml/v3"

// Flip mirrors a camera's picture, for a camera mounted facing a mirror or
// upside down on one axis.
type Flip string

const (
	FlipNone       Flip = "none"
	FlipHorizontal Flip = "horizontal" // left and right swap
	FlipVertical   Flip = "vertical"   // top and bottom swap
)

var flips = []Flip{FlipNone, FlipHorizontal, FlipVertical}

// check accepts "" as none, for configs built in code.
func (f Flip) check() error {
	if f == "" {
		return nil
	}
	return checkEnum(f, "flip", flips)
}

// UnmarshalYAML accepts "" as "not set": the camera defaults make it none.
func (f *Flip) UnmarshalYAML(n *yaml.Node) error {
	v, err := decodeYAMLEnum(n, "flip", flips, true)
	if err != nil {
		return err
	}
	*f = v
	return nil
}

func (f *Flip) UnmarshalJSON(data []byte) error {
	v, err := decodeJSONEnum(data, *f, "flip", flips)
	if err != nil {
		return err
	}
	*f = v
	return nil
}
