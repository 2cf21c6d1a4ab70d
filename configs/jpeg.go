package configs

func (j JPEG) problems() []*FieldError {
	var errs []*FieldError
	if j.Framerate < 1 || j.Framerate > 30 {
		errs = append(errs, fieldErrorf("framerate", "must be 1-30, got %d", j.Framerate))
	}
	if j.Quality < 10 || j.Quality > 100 {
		errs = append(errs, fieldErrorf("quality", "must be 10-100, got %d", j.Quality))
	}
	return errs
}

// MJPEGRate is the MJPEG stream's rate: the configured one, never above
// the output's (a faster stream would only repeat pictures).
func (c Config) MJPEGRate() int { return min(c.JPEG.Framerate, c.Output.Framerate) }
