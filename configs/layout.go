package configs

import (
	"math"
	"slices"
	"strings"
)

// Validate checks a layout against the camera names. The HTTP API calls it
// on PUT /api/layout; errors name the JSON/YAML key ("inset: ...").
func (l Layout) Validate(cameraNames []string) error {
	return joinFieldErrors(l.problems(cameraNames))
}

func (l Layout) problems(names []string) []*FieldError {
	var errs []*FieldError
	if err := l.Mode.check(); err != nil {
		errs = append(errs, &FieldError{Field: "mode", Err: err})
	}
	cams := strings.Join(names, ", ")
	if cams == "" {
		cams = "none"
	}
	switch {
	case l.Main == "":
		errs = append(errs, fieldErrorf("main", "required (cameras: %s)", cams))
	case !slices.Contains(names, l.Main):
		errs = append(errs, fieldErrorf("main", "%q is not a camera (cameras: %s)", l.Main, cams))
	}
	// The inset may be empty only when there is nothing to inset.
	switch {
	case l.Inset == "" && len(names) > 1 && l.Mode != LayoutSingle:
		errs = append(errs, fieldErrorf("inset", "required in mode %s with two cameras (cameras: %s)", l.Mode, cams))
	case l.Inset == "":
	case !slices.Contains(names, l.Inset):
		errs = append(errs, fieldErrorf("inset", "%q is not a camera (cameras: %s)", l.Inset, cams))
	case l.Inset == l.Main:
		errs = append(errs, fieldErrorf("inset", "%q is also main; pick the other camera", l.Inset))
	}
	if err := l.Corner.check(); err != nil {
		errs = append(errs, &FieldError{Field: "corner", Err: err})
	}
	if math.IsNaN(l.Size) || l.Size < 0.1 || l.Size > 0.5 {
		errs = append(errs, fieldErrorf("size", "must be 0.1-0.5 (a fraction of the output width), got %v", l.Size))
	}
	if l.Margin < 0 || l.Margin > 200 {
		errs = append(errs, fieldErrorf("margin", "must be 0-200 pixels, got %d", l.Margin))
	}
	return errs
}
