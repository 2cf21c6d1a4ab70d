package configs

func (o Output) problems() []*FieldError {
	var errs []*FieldError
	errs = append(errs, checkSize("width", o.Width)...)
	errs = append(errs, checkSize("height", o.Height)...)
	if o.Framerate < 1 || o.Framerate > 60 {
		errs = append(errs, fieldErrorf("framerate", "must be 1-60, got %d", o.Framerate))
	}
	return errs
}
