package configs

import (
	"strconv"
	"strings"
)

// The look of the overlay: font, size, position, colours, the shaded box
// and the progress bar. PUT /api/overlay changes it live, so it has JSON
// names; the text itself (a template) is config only.

// ProgressBar is the print's progress drawn as a bar across the picture.
type ProgressBar struct {
	Show     bool  `yaml:"show" json:"show"`
	Position Edge  `yaml:"position" json:"position"`
	Height   int   `yaml:"height" json:"height"` // pixels, 2-64
	Color    Color `yaml:"color" json:"color"`   // the done part
	Track    Color `yaml:"track" json:"track"`   // the part still to print
}

// FontDesc is the Pango font description textoverlay draws with: the
// family and style, and the size in points (size 0 fits the picture:
// one thirtieth of its height, at least 8).
func (o Overlay) FontDesc(out Output) string {
	size := o.Size
	if size == 0 {
		size = max(out.Height/30, 8)
	}
	return o.Font + " " + strconv.Itoa(size)
}

// styleProblems checks the look; overlay.problems calls it.
func (o Overlay) styleProblems() []*FieldError {
	var errs []*FieldError
	if !validFont(o.Font) {
		errs = append(errs, fieldErrorf("font", "%q must be 1-64 of letters, digits, space and , . - (a Pango family and style such as \"Sans Bold\")", o.Font))
	} else if last := o.Font[strings.LastIndexByte(o.Font, ' ')+1:]; isNumber(last) {
		errs = append(errs, fieldErrorf("font", "%q ends in a size; give the size as overlay.size (points) instead", o.Font))
	}
	if o.Size != 0 && (o.Size < 4 || o.Size > 200) {
		errs = append(errs, fieldErrorf("size", "must be 0 (fit the picture) or 4-200 points, got %d", o.Size))
	}
	if err := o.Position.check(); err != nil {
		errs = append(errs, &FieldError{Field: "position", Err: err})
	}
	if err := o.Color.check(); err != nil {
		errs = append(errs, &FieldError{Field: "color", Err: err})
	}
	if o.Shade < 0 || o.Shade > 255 {
		errs = append(errs, fieldErrorf("shade", "must be 0 (no box) to 255 (black box), got %d", o.Shade))
	}
	errs = append(errs, prefixed("progress_bar", o.ProgressBar.problems())...)
	return errs
}

func (b ProgressBar) problems() []*FieldError {
	var errs []*FieldError
	if err := b.Position.check(); err != nil {
		errs = append(errs, &FieldError{Field: "position", Err: err})
	}
	if b.Height < 2 || b.Height > 64 {
		errs = append(errs, fieldErrorf("height", "must be 2-64 pixels, got %d", b.Height))
	}
	if err := b.Color.check(); err != nil {
		errs = append(errs, &FieldError{Field: "color", Err: err})
	}
	if err := b.Track.check(); err != nil {
		errs = append(errs, &FieldError{Field: "track", Err: err})
	}
	return errs
}

// ValidateStyle checks the look alone (PUT /api/overlay); errors name the
// JSON keys.
func (o Overlay) ValidateStyle() error { return joinFieldErrors(o.styleProblems()) }

// isNumber is Pango's test for a size at the end of a description.
func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}
