package configs

// Validate checks every rule and returns all problems at once (errors.Join
// of *FieldError, one per line), or nil. Its errors carry field paths but
// no file or line: Parse and Load add those. It stats V4L2 devices.
func (c *Config) Validate() error {
	return joinFieldErrors(c.problems())
}

func (c *Config) problems() []*FieldError {
	var errs []*FieldError
	errs = append(errs, camerasProblems(c.Cameras, c.Output)...)
	errs = append(errs, prefixed("output", c.Output.problems())...)
	errs = append(errs, prefixed("layout", c.Layout.problems(c.CameraNames()))...)
	errs = append(errs, prefixed("encoder", c.Encoder.problems())...)
	errs = append(errs, prefixed("overlay", c.Overlay.problems())...)
	errs = append(errs, prefixed("printer", c.Printer.problems())...)
	errs = append(errs, listenProblems(c.HTTP, c.FLV)...)
	errs = append(errs, prefixed("http", c.HTTP.problems())...)
	errs = append(errs, prefixed("webrtc", c.WebRTC.problems())...)
	errs = append(errs, icePortProblems(c.WebRTC, c.HTTP, c.FLV)...)
	if err := c.HTTP.TokenFile.check(); err != nil {
		errs = append(errs, &FieldError{Field: "http.token_file", Err: err})
	}
	errs = append(errs, prefixed("jpeg", c.JPEG.problems())...)
	if err := c.Log.Level.check(); err != nil {
		errs = append(errs, &FieldError{Field: "log.level", Err: err})
	}
	errs = append(errs, prefixed("push", c.Push.problems(c.Printer.Type))...)
	errs = append(errs, prefixed("recording", c.Recording.problems(c.Printer.Type))...)
	return errs
}
