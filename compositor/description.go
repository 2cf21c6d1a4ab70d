package compositor

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// A Description is a GStreamer graph built from typed, validated values. It
// renders as a gst-launch-1.0 line; nothing in it is a user string pasted in
// as text: every token is checked when it is added (see the value types).
type Description struct {
	chains []Chain
	// parts names the pipeline each chain belongs to ("" the mixer's;
	// "cam0" a camera's), so one description prints as one gst-launch
	// line while the runtime starts each part as its own pipeline.
	parts []string
}

// A Chain is one run of linked items: elements, caps filters and pad
// references, rendered joined by " ! ".
type Chain []Item

// An Item is one link of a chain.
type Item interface{ render() string }

// Element is one element with its properties.
type Element struct {
	Factory string
	Name    string // optional
	Props   []Prop
}

// Caps is a caps filter such as video/x-raw,width=640.
type Caps struct {
	Media  string
	Fields []Prop
}

// PadRef names a pad of a named element ("mix.sink_0") or, with an empty
// Pad, the element itself as a branch point ("t.").
type PadRef struct {
	Element string
	Pad     string
}

// Prop is a key and a typed value.
type Prop struct {
	Key   string
	Value Value
}

// Value is a property or caps field value.
type Value interface{ render() string }

type (
	// Int is a signed integer value.
	Int int64
	// Bool is a boolean value.
	Bool bool
	// Float is a floating point value.
	Float float64
	// Enum is an enum or flags nick, e.g. zerolatency or constrained-baseline.
	Enum string
	// Str is free text; it is always quoted and escaped.
	Str string
	// Fraction is a rational such as a framerate.
	Fraction struct{ Num, Den int }
	// Typed forces a caps field type, as (string)4 or (uint)0.
	Typed struct {
		Type  string
		Value Value
	}
)

var (
	identRe = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
	enumRe  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_+.-]*$`)
	mediaRe = regexp.MustCompile(`^[a-z]+/[a-z0-9.+-]+$`)
	keyRe   = regexp.MustCompile(`^[a-z][a-z0-9_-]*(::[a-z][a-z0-9_-]*)?$`)
)

// Add appends a chain of the main (mixer) pipeline and checks every
// token in it.
func (d *Description) Add(items ...Item) error { return d.AddTo("", items...) }

// AddTo appends a chain of the named part and checks every token in it.
func (d *Description) AddTo(part string, items ...Item) error {
	if part != "" && !identRe.MatchString(part) {
		return fmt.Errorf("bad part name %q", part)
	}
	if err := validateChain(items); err != nil {
		return err
	}
	d.chains = append(d.chains, Chain(items))
	d.parts = append(d.parts, part)
	return nil
}

// Part is the description of one part alone: "" for the main pipeline.
func (d *Description) Part(name string) *Description {
	out := &Description{}
	for i, c := range d.chains {
		if d.parts[i] == name {
			out.chains = append(out.chains, c)
			out.parts = append(out.parts, name)
		}
	}
	return out
}

// String renders the description as one gst-launch-1.0 line.
func (d *Description) String() string {
	parts := make([]string, len(d.chains))
	for i, c := range d.chains {
		parts[i] = c.render()
	}
	return strings.Join(parts, "  ")
}

// Factories lists the element factories the description uses, each once,
// in order of first use. Caps filters count as capsfilter.
func (d *Description) Factories() []string {
	var out []string
	add := func(f string) {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	for _, c := range d.chains {
		for _, it := range c {
			switch v := it.(type) {
			case Element:
				add(v.Factory)
			case Caps:
				add("capsfilter")
			}
		}
	}
	return out
}

// Lines renders one chain per line, for humans (print-pipeline).
func (d *Description) Lines() []string {
	out := make([]string, len(d.chains))
	for i, c := range d.chains {
		out[i] = c.render()
	}
	return out
}

// Args renders the description as gst-launch-1.0's command-line words.
// gst-launch escapes spaces and quotes inside each word itself, so a
// string value goes in bare ("font-desc=Sans 12" is one word), and each
// chain is separated from the next by nothing but word boundaries.
func (d *Description) Args() []string {
	var words []string
	for _, c := range d.chains {
		for i, it := range c {
			if i > 0 {
				words = append(words, "!")
			}
			words = append(words, itemArgs(it)...)
		}
	}
	return words
}

func itemArgs(it Item) []string {
	e, ok := it.(Element)
	if !ok {
		return []string{it.render()} // caps and pad references are one word
	}
	words := []string{e.Factory}
	if e.Name != "" {
		words = append(words, "name="+e.Name)
	}
	for _, p := range e.Props {
		v := p.Value.render()
		if str, ok := p.Value.(Str); ok {
			v = string(str)
		}
		words = append(words, p.Key+"="+v)
	}
	return words
}

func (c Chain) render() string {
	var b strings.Builder
	for i, it := range c {
		if i > 0 {
			b.WriteString(" ! ")
		}
		b.WriteString(it.render())
	}
	return b.String()
}

func (e Element) render() string {
	var b strings.Builder
	b.WriteString(e.Factory)
	if e.Name != "" {
		b.WriteString(" name=")
		b.WriteString(e.Name)
	}
	writeProps(&b, ' ', e.Props)
	return b.String()
}

func (c Caps) render() string {
	var b strings.Builder
	b.WriteString(c.Media)
	writeProps(&b, ',', c.Fields)
	return b.String()
}

// writeProps writes each property as sep key=value.
func writeProps(b *strings.Builder, sep byte, props []Prop) {
	for _, p := range props {
		b.WriteByte(sep)
		b.WriteString(p.Key)
		b.WriteByte('=')
		b.WriteString(p.Value.render())
	}
}

func (p PadRef) render() string { return p.Element + "." + p.Pad }

func (v Int) render() string  { return strconv.FormatInt(int64(v), 10) }
func (v Bool) render() string { return strconv.FormatBool(bool(v)) }
func (v Float) render() string {
	return strconv.FormatFloat(float64(v), 'f', -1, 64)
}
func (v Enum) render() string     { return string(v) }
func (v Fraction) render() string { return fmt.Sprintf("%d/%d", v.Num, v.Den) }
func (v Typed) render() string    { return "(" + v.Type + ")" + v.Value.render() }

// Str renders in double quotes. gst_parse unescapes \" and \\ inside quotes;
// a shell needs the whole line in single quotes, which print-pipeline adds.
func (v Str) render() string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(string(v)) + `"`
}

func validateChain(items []Item) error {
	if len(items) == 0 {
		return fmt.Errorf("empty chain")
	}
	for i, it := range items {
		if err := validateItem(it); err != nil {
			return fmt.Errorf("chain item %d: %w", i, err)
		}
	}
	return nil
}

func validateItem(it Item) error {
	switch v := it.(type) {
	case Element:
		if !identRe.MatchString(v.Factory) {
			return fmt.Errorf("bad element factory %q", v.Factory)
		}
		if v.Name != "" && !identRe.MatchString(v.Name) {
			return fmt.Errorf("bad element name %q", v.Name)
		}
		return validateProps(v.Props)
	case Caps:
		if !mediaRe.MatchString(v.Media) {
			return fmt.Errorf("bad caps media type %q", v.Media)
		}
		return validateProps(v.Fields)
	case PadRef:
		if !identRe.MatchString(v.Element) {
			return fmt.Errorf("bad element name %q in pad reference", v.Element)
		}
		if v.Pad != "" && !identRe.MatchString(v.Pad) {
			return fmt.Errorf("bad pad name %q", v.Pad)
		}
		return nil
	default:
		return fmt.Errorf("unknown item type %T", it)
	}
}

func validateProps(props []Prop) error {
	for _, p := range props {
		if !keyRe.MatchString(p.Key) {
			return fmt.Errorf("bad property name %q", p.Key)
		}
		if err := validateValue(p.Value); err != nil {
			return fmt.Errorf("property %s: %w", p.Key, err)
		}
	}
	return nil
}

func validateValue(v Value) error {
	switch v := v.(type) {
	case Int, Bool:
		return nil
	case Float:
		if v != v { // NaN
			return fmt.Errorf("NaN")
		}
		return nil
	case Enum:
		if !enumRe.MatchString(string(v)) {
			return fmt.Errorf("bad enum value %q", string(v))
		}
		return nil
	case Str:
		if strings.ContainsAny(string(v), "\x00\n\r") {
			return fmt.Errorf("string value has a control character")
		}
		return nil
	case Fraction:
		if v.Num < 0 || v.Den <= 0 {
			return fmt.Errorf("bad fraction %d/%d", v.Num, v.Den)
		}
		return nil
	case Typed:
		if !identRe.MatchString(v.Type) {
			return fmt.Errorf("bad type %q", v.Type)
		}
		return validateValue(v.Value)
	default:
		return fmt.Errorf("unknown value type %T", v)
	}
}
