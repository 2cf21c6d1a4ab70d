package overlay

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"text/template"
	"text/template/parse"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxText is the most the rendered text may be, in bytes: what the
// compositor's text element takes.
const MaxText = 256

// maxRender bounds the template's raw output before it is cut to MaxText,
// so a runaway range cannot grow a buffer without end.
const maxRender = 64 << 10

// clockFuncs are the helpers that make a text change with time alone.
var clockFuncs = []string{"clock", "eta"}

// textTemplate is overlay.text, parsed.
type textTemplate struct {
	t        *template.Template
	clocked  bool // uses clock or eta: render every second
	rendered bytes.Buffer
}

func newTextTemplate(text string, now func() time.Time) (*textTemplate, error) {
	t, err := template.New("overlay.text").Funcs(funcs(now)).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("overlay.text: %w", err)
	}
	return &textTemplate{t: t, clocked: usesAny(t, clockFuncs)}, nil
}

// render executes the template on st and returns text fit for the picture.
func (tt *textTemplate) render(st Status) (string, error) {
	tt.rendered.Reset()
	err := tt.t.Execute(&limitWriter{w: &tt.rendered, n: maxRender}, st)
	if err != nil {
		return "", fmt.Errorf("render overlay.text: %w", err)
	}
	return clean(tt.rendered.String()), nil
}

// clean makes rendered text fit for the picture: control characters other
// than newline become spaces, invalid UTF-8 is replaced, surrounding
// blank space goes, and the text is cut to MaxText bytes on a rune
// boundary with an ellipsis.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r != '\n' && unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) <= MaxText {
		return s
	}
	cut := MaxText - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

// usesAny reports whether the template calls any of the named functions.
func usesAny(t *template.Template, names []string) bool {
	found := false
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		if n == nil || found {
			return
		}
		switch n := n.(type) {
		case *parse.IdentifierNode:
			for _, name := range names {
				found = found || n.Ident == name
			}
		case *parse.ListNode:
			if n != nil {
				for _, c := range n.Nodes {
					walk(c)
				}
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n != nil {
				for _, c := range n.Cmds {
					walk(c)
				}
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.IfNode:
			walkBranch(walk, &n.BranchNode)
		case *parse.RangeNode:
			walkBranch(walk, &n.BranchNode)
		case *parse.WithNode:
			walkBranch(walk, &n.BranchNode)
		case *parse.TemplateNode:
			walk(n.Pipe)
		case *parse.ChainNode:
			walk(n.Node)
		}
	}
	for _, tmpl := range t.Templates() {
		if tmpl.Tree != nil {
			walk(tmpl.Tree.Root)
		}
	}
	return found
}

func walkBranch(walk func(parse.Node), b *parse.BranchNode) {
	walk(b.Pipe)
	walk(b.List)
	walk(b.ElseList)
}

// limitWriter fails once more than n bytes are written.
type limitWriter struct {
	w *bytes.Buffer
	n int
}

var errTooLong = errors.New("output too long")

func (l *limitWriter) Write(p []byte) (int, error) {
	if len(p) > l.n {
		return 0, errTooLong
	}
	l.n -= len(p)
	return l.w.Write(p)
}
