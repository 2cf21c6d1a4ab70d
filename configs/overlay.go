package configs

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxOverlayTemplate bounds overlay.text, a template; the text it renders
// is capped separately (the overlay package cuts it to what the picture
// takes).
const maxOverlayTemplate = 4096

func (o Overlay) problems() []*FieldError {
	var errs []*FieldError
	if err := checkOverlayText(o.Text); err != nil {
		errs = append(errs, &FieldError{Field: "text", Err: err})
	}
	return append(errs, o.styleProblems()...)
}

func checkOverlayText(text string) error {
	switch {
	case len(text) > maxOverlayTemplate:
		return fmt.Errorf("too long: %d bytes, at most %d", len(text), maxOverlayTemplate)
	case !utf8.ValidString(text):
		return errors.New("not valid UTF-8")
	}
	// Pango would draw control characters as boxes (or choke on NUL).
	for _, r := range text {
		if r != '\n' && unicode.IsControl(r) {
			return fmt.Errorf("contains control character %U; only newline is allowed", r)
		}
	}
	return checkTemplate(text)
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
