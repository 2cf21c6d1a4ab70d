package configs

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Rotation turns a camera's picture clockwise by a quarter turn or more:
// 0, 90, 180 or 270 degrees.
type Rotation int

var rotations = []Rotation{0, 90, 180, 270}

func (r Rotation) check() error {
	for _, ok := range rotations {
		if r == ok {
			return nil
		}
	}
	return fmt.Errorf("rotation %d is not one of 0, 90, 180, 270 (degrees clockwise)", int(r))
}

// Quarter reports whether the rotation swaps width and height.
func (r Rotation) Quarter() bool { return r == 90 || r == 270 }

func (r *Rotation) UnmarshalYAML(n *yaml.Node) error {
	var v int
	if err := n.Decode(&v); err != nil {
		return fmt.Errorf("want 0, 90, 180 or 270, got %q", n.Value)
	}
	if err := Rotation(v).check(); err != nil {
		return err
	}
	*r = Rotation(v)
	return nil
}
