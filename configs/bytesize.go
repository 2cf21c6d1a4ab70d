package configs

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// ByteSize is an amount of storage written with its unit: "500MB", "2GB",
// "1.5GB" (powers of 1000, as disks are sold) or "512MiB", "4GiB" (powers
// of 1024); "0" means no limit. A bare number is refused: bytes or
// megabytes?
type ByteSize int64

// byteUnits from the largest down: String picks the first that divides.
var byteUnits = []struct {
	name string
	size int64
}{
	{"TB", 1e12}, {"TiB", 1 << 40}, {"GB", 1e9}, {"GiB", 1 << 30},
	{"MB", 1e6}, {"MiB", 1 << 20}, {"kB", 1e3}, {"KiB", 1 << 10}, {"B", 1},
}

// Bytes returns the size in bytes.
func (b ByteSize) Bytes() int64 { return int64(b) }

func (b ByteSize) String() string {
	if b == 0 {
		return "0"
	}
	for _, u := range byteUnits {
		if int64(b)%u.size == 0 {
			return strconv.FormatInt(int64(b)/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}

func parseByteSize(s string) (ByteSize, error) {
	if s == "0" {
		return 0, nil
	}
	bad := fmt.Errorf("invalid size %q: want a number with a unit, such as 500MB, 2GB or 4GiB (or 0 for no limit)", s)
	i := strings.IndexFunc(s, unicode.IsLetter)
	if i <= 0 {
		return 0, bad
	}
	num, unit := strings.TrimSpace(s[:i]), s[i:]
	if unit == "KB" {
		unit = "kB"
	}
	for _, u := range byteUnits {
		if unit != u.name {
			continue
		}
		v, err := strconv.ParseFloat(num, 64)
		switch {
		case err != nil || math.IsNaN(v) || math.IsInf(v, 0):
			return 0, bad
		case v < 0:
			return 0, fmt.Errorf("size %q is negative", s)
		case v*float64(u.size) > 1e18:
			return 0, fmt.Errorf("size %q is too large", s)
		}
		return ByteSize(math.Round(v * float64(u.size))), nil
	}
	return 0, bad
}

func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := parseByteSize(s)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// MarshalYAML writes the readable form, so a marshalled config reads back.
func (b ByteSize) MarshalYAML() (any, error) { return b.String(), nil }

func (b *ByteSize) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return errors.New("size must be a JSON string such as \"2GB\"")
	}
	v, err := parseByteSize(s)
	if err != nil {
		return err
	}
	*b = v
	return nil
}
