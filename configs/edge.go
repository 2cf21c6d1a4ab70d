package configs

import "go.yaml.in/yaml/v3"

// Edge is the top or bottom edge of the picture, for the progress bar.
type Edge string

const (
	EdgeTop    Edge = "top"
	EdgeBottom Edge = "bottom"
)

var edges = []Edge{EdgeTop, EdgeBottom}

func (e Edge) check() error { return checkEnum(e, "edge", edges) }

func (e *Edge) UnmarshalYAML(n *yaml.Node) error {
	v, err := decodeYAMLEnum(n, "edge", edges, false)
	if err != nil {
		return err
	}
	*e = v
	return nil
}

func (e *Edge) UnmarshalJSON(data []byte) error {
	v, err := decodeJSONEnum(data, *e, "edge", edges)
	if err != nil {
		return err
	}
	*e = v
	return nil
}
