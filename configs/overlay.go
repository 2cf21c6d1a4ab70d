package configs

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

const maxOverlayText = 256

func (o Overlay) problems() []*FieldError {
	var errs []*FieldError
	switch {
	case len(o.Text) > maxOverlayText:
		errs = append(errs, fieldErrorf("text", "too long: %d bytes, at most %d", len(o.Text), maxOverlayText))
	case !utf8.ValidString(o.Text):
		errs = append(errs, fieldErrorf("text", "not valid UTF-8"))
	default:
		// Pango would draw control characters as boxes (or choke on NUL).
		for _, r := range o.Text {
			if r != '\n' && unicode.IsControl(r) {
				errs = append(errs, fieldErrorf("text", "contains control character %U; only newline is allowed", r))
				break
			}
		}
	}
	return append(errs, o.styleProblems()...)
}

// validFont enforces ^[A-Za-z0-9 ,.-]{1,64}$: the font goes into a
// gst-launch line, so no quotes or '!'.
func validFont(f string) bool {
	if f == "" || len(f) > 64 {
		return false
	}
	for i := 0; i < len(f); i++ {
		b := f[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte(" ,.-", b) >= 0) {
			return false
		}
	}
	return true
}
