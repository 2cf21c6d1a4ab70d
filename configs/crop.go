package configs

import "fmt"

// Crop cuts pixels off the edges of a camera's picture, counted in the
// picture at the camera's width and height, before any rotation.
type Crop struct {
	Left   int `yaml:"left"`
	Right  int `yaml:"right"`
	Top    int `yaml:"top"`
	Bottom int `yaml:"bottom"`
}

// IsZero reports whether nothing is cut.
func (c Crop) IsZero() bool { return c == Crop{} }

// problems checks the crop against the picture it cuts: even values (the
// pictures are 4:2:0, whose colour planes have half the pixels) that
// leave at least 16 pixels each way.
func (c Crop) problems(w, h int) []*FieldError {
	var errs []*FieldError
	for _, e := range []struct {
		field string
		v     int
	}{{"left", c.Left}, {"right", c.Right}, {"top", c.Top}, {"bottom", c.Bottom}} {
		switch {
		case e.v < 0:
			errs = append(errs, fieldErrorf(e.field, "must be 0 or more pixels, got %d", e.v))
		case e.v%2 != 0:
			errs = append(errs, fieldErrorf(e.field, "must be even, got %d", e.v))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	if left := w - c.Left - c.Right; left < 16 {
		errs = append(errs, fieldErrorf("", "left+right (%d) leaves %d of the %d pixels across; at least 16 must stay", c.Left+c.Right, left, w))
	}
	if left := h - c.Top - c.Bottom; left < 16 {
		errs = append(errs, fieldErrorf("", "top+bottom (%d) leaves %d of the %d pixels down; at least 16 must stay", c.Top+c.Bottom, left, h))
	}
	return errs
}

// Size is the picture left after cutting a w x h picture.
func (c Crop) Size(w, h int) (int, int) {
	return w - c.Left - c.Right, h - c.Top - c.Bottom
}

func (c Crop) String() string {
	return fmt.Sprintf("left %d, right %d, top %d, bottom %d", c.Left, c.Right, c.Top, c.Bottom)
}
