package main

import (
	"fmt"
	"io"
	"strings"
)

// row is one line of the scoreboard.
type row struct {
	section, what, value, goal string
}

// scoreboard collects the rows every section adds and prints them as one
// Markdown table (the README keeps it).
type scoreboard struct{ rows []row }

func (s *scoreboard) add(section, what, goal, format string, args ...any) {
	s.rows = append(s.rows, row{section, what, fmt.Sprintf(format, args...), goal})
	fmt.Fprintf(progress, "  %s: %s = %s\n", section, what, fmt.Sprintf(format, args...))
}

func (s *scoreboard) print(w io.Writer) {
	fmt.Fprintln(w, "| section | measurement | value | goal |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, r := range s.rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", r.section, esc(r.what), esc(r.value), esc(r.goal))
	}
}

func esc(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
