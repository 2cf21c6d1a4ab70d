package configs

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// FieldError is one problem with one setting. Its message reads
// "file:line: field: reason", the way compilers report, so an editor can
// jump to it; parts that are unknown are left out.
type FieldError struct {
	File  string // as given to Parse/Load; "" when validating a Config built in code
	Line  int    // 1-based; 0 when the setting is not in the file
	Field string // YAML path, e.g. "cameras[1].device"; "" for the whole document
	Err   error
}

func (e *FieldError) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	if e.Err == nil {
		b.WriteString("invalid")
	} else {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *FieldError) Unwrap() error { return e.Err }

// fieldErrorf builds a FieldError for a path relative to the value being
// validated; callers prefix the path as the error travels up.
func fieldErrorf(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Err: fmt.Errorf(format, args...)}
}

// joinPath appends a key or an index ("[2]") to a YAML path.
func joinPath(parent, child string) string {
	switch {
	case parent == "":
		return child
	case child == "":
		return parent
	case strings.HasPrefix(child, "["):
		return parent + child
	}
	return parent + "." + child
}

// parentPath drops the last key or index of a YAML path.
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// prefixed puts errors of a sub-value under its key in the parent.
func prefixed(prefix string, errs []*FieldError) []*FieldError {
	for _, e := range errs {
		e.Field = joinPath(prefix, e.Field)
	}
	return errs
}

const maxReported = 50

// joinFieldErrors returns nil or all problems, one per line, sorted by line
// (settings missing from the file, line 0, come last).
// Past maxReported only a count is given: a wrong file (say a JSON dump)
// should not print thousands of lines.
func joinFieldErrors(errs []*FieldError) error {
	if len(errs) == 0 {
		return nil
	}
	slices.SortStableFunc(errs, func(a, b *FieldError) int {
		return cmp.Compare(sortLine(a.Line), sortLine(b.Line))
	})
	if n := len(errs); n > maxReported {
		errs = append(errs[:maxReported:maxReported], &FieldError{
			File: errs[0].File,
			Err:  fmt.Errorf("%d more problems not shown", n-maxReported),
		})
	}
	all := make([]error, len(errs))
	for i, e := range errs {
		all[i] = e
	}
	return errors.Join(all...)
}

func sortLine(l int) int {
	if l <= 0 {
		return int(^uint(0) >> 1)
	}
	return l
}
