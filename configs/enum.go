package configs

import (
	"encoding/json"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The enum helpers below give every string-valued setting the same
// behaviour: exact, case-sensitive values, and an error that lists the
// valid ones, whether the value comes from YAML, JSON or Go code.

func checkEnum[T ~string](v T, what string, valid []T) error {
	for _, ok := range valid {
		if v == ok {
			return nil
		}
	}
	names := make([]string, len(valid))
	for i, ok := range valid {
		names[i] = string(ok)
	}
	return fmt.Errorf("unknown %s %q (valid: %s)", what, string(v), strings.Join(names, ", "))
}

// decodeYAMLEnum reads a scalar; allowEmpty lets "" through for settings
// where empty means "use the default" (filled in later).
func decodeYAMLEnum[T ~string](n *yaml.Node, what string, valid []T, allowEmpty bool) (T, error) {
	var s string
	if err := n.Decode(&s); err != nil {
		return "", err
	}
	if s == "" && allowEmpty {
		return "", nil
	}
	if err := checkEnum(T(s), what, valid); err != nil {
		return "", err
	}
	return T(s), nil
}

// decodeJSONEnum reads a JSON string; JSON null leaves cur unchanged, as
// encoding/json does for plain strings.
func decodeJSONEnum[T ~string](data []byte, cur T, what string, valid []T) (T, error) {
	if string(data) == "null" {
		return cur, nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return cur, fmt.Errorf("%s must be a JSON string: %w", what, err)
	}
	if err := checkEnum(T(s), what, valid); err != nil {
		return cur, err
	}
	return T(s), nil
}
