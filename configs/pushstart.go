package configs

import "go.yaml.in/yaml/v3"

// PushStart is when a push destination gets the stream.
type PushStart string

const (
	// PushAlways pushes from start-up on (the default).
	PushAlways PushStart = "always"
	// PushPrinting pushes while a print runs: from OctoPrint's print start
	// to its end (done, cancelled, failed).
	PushPrinting PushStart = "printing"
	// PushManual pushes only once started through PUT /api/push/{name}.
	PushManual PushStart = "manual"
)

var pushStarts = []PushStart{PushAlways, PushPrinting, PushManual}

func (s PushStart) check() error { return checkEnum(s, "push start", pushStarts) }

// UnmarshalYAML accepts "" as "not set": always.
func (s *PushStart) UnmarshalYAML(n *yaml.Node) error {
	v, err := decodeYAMLEnum(n, "push start", pushStarts, true)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

func (s *PushStart) UnmarshalJSON(data []byte) error {
	v, err := decodeJSONEnum(data, *s, "push start", pushStarts)
	if err != nil {
		return err
	}
	*s = v
	return nil
}
