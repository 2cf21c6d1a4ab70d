package configs

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"
)

// overlayFuncs are the helpers an overlay.text template may call. The
// overlay package implements them; configs needs only the names to parse
// a template when it validates (it cannot import overlay). A test in
// overlay keeps its FuncMap equal to this list.
var overlayFuncs = []string{"clock", "decimal", "duration", "eta", "percent", "short", "temp", "temps"}

// OverlayFuncNames returns the names of the overlay.text helpers.
func OverlayFuncNames() []string { return slices.Clone(overlayFuncs) }

// TemplateError is a template that does not parse. Line is the line
// within the template, 1-based.
type TemplateError struct {
	Line   int
	Reason string
}

func (e *TemplateError) Error() string {
	return fmt.Sprintf("template line %d: %s", e.Line, e.Reason)
}

// text/template reports "template: NAME:LINE: reason".
var templateErrRE = regexp.MustCompile(`(?s)^template: [^:]*:(\d+): (.*)$`)

// checkTemplate parses text as the overlay does, with stand-ins for the
// helpers: a typo or an unknown helper is a config error, not a blank
// overlay at run time.
func checkTemplate(text string) error {
	funcs := template.FuncMap{}
	for _, name := range overlayFuncs {
		funcs[name] = func(...any) string { return "" }
	}
	_, err := template.New("overlay.text").Funcs(funcs).Parse(text)
	if err == nil {
		return nil
	}
	m := templateErrRE.FindStringSubmatch(err.Error())
	if m == nil {
		return fmt.Errorf("template: %w", err)
	}
	line, _ := strconv.Atoi(m[1])
	return &TemplateError{Line: line, Reason: m[2]}
}

// templateLine points a template error at its line in the file: the
// template's line n is the file line after the "|" of a literal block
// scalar, and the value's own line for a one-line value. 0 when the value
// cannot be found or is folded (">"), whose lines do not map.
func templateLine(root *yaml.Node, e *FieldError) int {
	var te *TemplateError
	if root == nil || !errors.As(e.Err, &te) {
		return 0
	}
	n := root
	for _, key := range strings.Split(e.Field, ".") {
		n = mappingValue(resolve(n), key)
		if n == nil {
			return 0
		}
	}
	n = resolve(n)
	switch {
	case n.Kind != yaml.ScalarNode:
		return 0
	case n.Style == yaml.LiteralStyle:
		return n.Line + te.Line
	case te.Line == 1 && !strings.Contains(n.Value, "\n"):
		return n.Line
	}
	return 0
}

// mappingValue is the value under key in a mapping node, or nil.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := resolve(n.Content[i]); k.Kind == yaml.ScalarNode && k.Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// DefaultOverlayText is the default overlay.text: "pipcam" with no
// printer, else e.g. "Printing 42% · 1h12m left · E 210/210°C B 60/60°C".
const DefaultOverlayText = `{{- if eq .State "none" -}}
  pipcam
{{- else if .Active -}}
  {{.StateText}}{{with .Job.Progress}} {{percent .}}{{end}}
  {{- with .Job.Left}} · {{duration .}} left{{end}}
  {{- with .Temps}} · {{temps .}}{{end}}
{{- else if .Down -}}
  {{.StateText}}
{{- else -}}
  {{.StateText}}{{with .Message}}: {{.}}{{end}}
  {{- if eq .State "complete" "cancelled"}}{{with .Job.File}} {{short 32 .}}{{end}}{{end}}
  {{- with .Temps}} · {{temps .}}{{end}}
{{- end -}}`
