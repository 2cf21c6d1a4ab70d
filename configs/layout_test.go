package configs

import (
	"errors"
	"strings"
	"testing"
)

func TestLayoutValidate(t *testing.T) {
	ab := []string{"a", "b"}
	base := Default().Layout
	with := func(f func(*Layout)) Layout { l := base; f(&l); return l }
	tests := []struct {
		name  string
		l     Layout
		names []string
		want  string // "" = valid
	}{
		{"default", base, ab, ""},
		{"swapped", with(func(l *Layout) { l.Main, l.Inset = "b", "a" }), ab, ""},
		{"one camera no inset", with(func(l *Layout) { l.Inset = "" }), []string{"a"}, ""},
		{"one camera inset", base, []string{"a"}, `inset: "b" is not a camera (cameras: a)`},
		{"single no inset", with(func(l *Layout) { l.Mode, l.Inset = LayoutSingle, "" }), ab, ""},
		{"single with inset", with(func(l *Layout) { l.Mode = LayoutSingle }), ab, ""},
		{"pip needs inset", with(func(l *Layout) { l.Inset = "" }), ab, "inset: required in mode pip with two cameras (cameras: a, b)"},
		{"side-by-side needs inset", with(func(l *Layout) { l.Mode, l.Inset = LayoutSideBySide, "" }), ab, "inset: required in mode side-by-side"},
		{"unknown inset", with(func(l *Layout) { l.Inset = "c" }), ab, `inset: "c" is not a camera (cameras: a, b)`},
		{"inset is main", with(func(l *Layout) { l.Inset = "a" }), ab, `inset: "a" is also main`},
		{"no main", with(func(l *Layout) { l.Main = "" }), ab, "main: required (cameras: a, b)"},
		{"unknown main", with(func(l *Layout) { l.Main = "z" }), ab, `main: "z" is not a camera (cameras: a, b)`},
		{"bad mode", with(func(l *Layout) { l.Mode = "grid" }), ab, `mode: unknown layout mode "grid"`},
		{"bad corner", with(func(l *Layout) { l.Corner = "" }), ab, `corner: unknown corner ""`},
		{"size low", with(func(l *Layout) { l.Size = 0.09 }), ab, "size: must be 0.1-0.5 (a fraction of the output width), got 0.09"},
		{"size high", with(func(l *Layout) { l.Size = 0.51 }), ab, "size: must be 0.1-0.5"},
		{"size edges", with(func(l *Layout) { l.Size = 0.5 }), ab, ""},
		{"margin negative", with(func(l *Layout) { l.Margin = -1 }), ab, "margin: must be 0-200 pixels, got -1"},
		{"margin 200", with(func(l *Layout) { l.Margin = 200 }), ab, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.l.Validate(tt.names)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("want nil, got %v", err)
			case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
				t.Errorf("want %q, got %v", tt.want, err)
			}
		})
	}
}

func TestLayoutValidateReportsAll(t *testing.T) {
	err := Layout{Mode: "x", Main: "a", Inset: "a", Corner: "y", Size: 1, Margin: 999}.Validate([]string{"a", "b"})
	var fields []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("not a FieldError: %v", e)
		}
		fields = append(fields, fe.Field)
	}
	if got := strings.Join(fields, " "); got != "mode inset corner size margin" {
		t.Errorf("fields: %s", got)
	}
}
