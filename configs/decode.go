package configs

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Limits that keep a hostile or broken file (alias bombs, recursive
// merges) from hanging the decoder. Real configs are far below them.
const (
	maxDecodeDepth = 32
	maxDecodeSteps = 100000
)

// decoder copies a YAML node tree onto a Go value by its yaml tags, as
// yaml.v3's KnownFields decoding does, but keeps going after a problem and
// knows each setting's path: yaml.v3 stops at the first error from an
// UnmarshalYAML and reports others as bare "line N: ..." strings. Leaves
// are still decoded by yaml.v3 (node.Decode), so scalars parse exactly as
// yaml.v3 parses them.
type decoder struct {
	lines   lineIndex     // path -> line of every setting present
	errs    []*FieldError // problems, paths set, file not yet
	failed  []string      // paths whose value could not be decoded
	steps   int
	stopped bool
}

func newDecoder() *decoder { return &decoder{lines: lineIndex{}} }

func (d *decoder) fail(n *yaml.Node, path string, err error) {
	d.errs = append(d.errs, &FieldError{Line: n.Line, Field: path, Err: err})
}

// failValue records a value that was not decoded, so that validation
// errors it causes are not reported on top of it.
func (d *decoder) failValue(n *yaml.Node, path string, err error) {
	d.fail(n, path, err)
	d.failed = append(d.failed, path)
}

// decode dispatches on the Go type; the value is left as it was (the
// default) when the node is null or wrong.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string, depth int) {
	if !d.step(n, path, depth) {
		return
	}
	n = resolve(n)
	switch {
	case isLeaf(v):
		d.leaf(n, v, path)
	case v.Kind() == reflect.Struct:
		d.mapping(n, v, path, depth)
	case v.Kind() == reflect.Slice:
		d.sequence(n, v, path, depth)
	default:
		d.failValue(n, path, fmt.Errorf("cannot decode into %s", v.Type())) // not in the schema
	}
}

// step enforces the limits; past them decoding stops, reported once.
func (d *decoder) step(n *yaml.Node, path string, depth int) bool {
	if d.stopped {
		return false
	}
	d.steps++
	if d.steps > maxDecodeSteps || depth > maxDecodeDepth {
		d.failValue(n, path, errors.New("document too deeply nested or too many aliases"))
		d.stopped = true
		return false
	}
	return true
}

// resolve follows aliases (*name) to the anchored node.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < maxDecodeDepth; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

func isLeaf(v reflect.Value) bool {
	if reflect.PointerTo(v.Type()).Implements(unmarshalerType) {
		return true
	}
	switch v.Kind() {
	case reflect.String, reflect.Bool, reflect.Float32, reflect.Float64,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// leaf decodes a scalar with yaml.v3 (and so the type's UnmarshalYAML).
// A null scalar sets the zero value, as in yaml.v3 ("text: ~" is "").
func (d *decoder) leaf(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.failValue(n, path, fmt.Errorf("want %s, got %s", describeType(v.Type()), describeNode(n)))
		return
	}
	// yaml.v3 would truncate 1.5 into an int field; a config wants exact.
	if isInt(v.Kind()) && n.ShortTag() == "!!float" {
		d.failValue(n, path, fmt.Errorf("want %s, got %s", describeType(v.Type()), describeNode(n)))
		return
	}
	tmp := reflect.New(v.Type())
	if err := n.Decode(tmp.Interface()); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			err = fmt.Errorf("want %s, got %s", describeType(v.Type()), describeNode(n))
		}
		d.failValue(n, path, err)
		return
	}
	v.Set(tmp.Elem())
}

// mapping decodes onto a struct, leaving fields the node does not name
// untouched: that is how absent settings keep their defaults.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string, depth int) {
	if isNull(n) {
		return // "layout:" with every line under it commented out
	}
	fields, names := yamlFields(v.Type())
	if n.Kind != yaml.MappingNode {
		d.failValue(n, path, fmt.Errorf("want a mapping of settings (%s), got %s", strings.Join(names, ", "), describeNode(n)))
		return
	}
	// Merge keys (<<: *base) first, so keys written here override them.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if isMerge(n.Content[i]) {
			d.merge(n.Content[i+1], v, path, depth+1)
		}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolve(n.Content[i]), n.Content[i+1]
		if isMerge(k) {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.fail(k, path, fmt.Errorf("a setting name must be plain text, got %s", describeNode(k)))
			continue
		}
		fpath := joinPath(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.fail(k, fpath, fmt.Errorf("given twice (first on line %d)", first))
			continue
		}
		seen[k.Value] = k.Line
		idx, ok := fields[k.Value]
		if !ok {
			d.fail(k, fpath, fmt.Errorf("unknown field (known: %s)", strings.Join(names, ", ")))
			continue
		}
		d.lines.set(fpath, k.Line)
		d.decode(val, v.Field(idx), fpath, depth+1)
	}
}

// isMerge matches yaml.v3's test for the "<<" merge key.
func isMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "" || k.Tag == "!" || k.ShortTag() == "!!merge")
}

// merge applies "<<: *a" or "<<: [*a, *b]". As in the YAML merge spec,
// earlier mappings in a list win, so they are applied last.
func (d *decoder) merge(n *yaml.Node, v reflect.Value, path string, depth int) {
	if !d.step(n, path, depth) {
		return
	}
	wantMap := errors.New("<< (merge) needs a mapping or a list of mappings")
	switch {
	case n.Kind == yaml.SequenceNode:
		for i := len(n.Content) - 1; i >= 0; i-- {
			if m := resolve(n.Content[i]); m.Kind == yaml.MappingNode {
				d.mapping(m, v, path, depth+1)
			} else {
				d.failValue(n.Content[i], path, wantMap)
			}
		}
	case resolve(n).Kind == yaml.MappingNode:
		d.mapping(resolve(n), v, path, depth+1)
	default:
		d.failValue(n, path, wantMap)
	}
}

// sequence replaces the slice: a list in the file replaces the default
// list whole rather than merging into it. An empty list becomes nil.
func (d *decoder) sequence(n *yaml.Node, v reflect.Value, path string, depth int) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.failValue(n, path, fmt.Errorf("want a list, got %s", describeNode(n)))
		return
	}
	if len(n.Content) == 0 {
		v.Set(reflect.Zero(v.Type()))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, e := range n.Content {
		epath := fmt.Sprintf("%s[%d]", path, i)
		d.lines.set(epath, e.Line)
		d.decode(e, s.Index(i), epath, depth+1)
	}
	v.Set(s)
}

// yamlFields maps yaml key to field index, and lists the keys in
// declaration order for "known: ..." messages.
func yamlFields(t reflect.Type) (map[string]int, []string) {
	idx := map[string]int{}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		idx[name] = i
		names = append(names, name)
	}
	return idx, names
}

func isInt(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

func describeType(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[Duration]():
		return "a duration such as 2s"
	case isInt(t.Kind()):
		return "a whole number"
	}
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	}
	return "a single value"
}

func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing (null)"
		}
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return fmt.Sprintf("%q", v)
	}
	return "an unexpected YAML node"
}
