package configs

import "time"

func (e Encoder) problems() []*FieldError {
	var errs []*FieldError
	if err := e.Element.check(); err != nil {
		errs = append(errs, &FieldError{Field: "element", Err: err})
	}
	if e.BitrateKbps < 50 || e.BitrateKbps > 20000 {
		errs = append(errs, fieldErrorf("bitrate_kbps", "must be 50-20000, got %d", e.BitrateKbps))
	}
	if d := e.KeyframeInterval.D(); d < 100*time.Millisecond || d > 60*time.Second {
		errs = append(errs, fieldErrorf("keyframe_interval", "must be 100ms-60s, got %v", d))
	}
	// 0 lets every viewer request through; more than 10s makes joins slow.
	if d := e.KeyframeMinGap.D(); d < 0 || d > 10*time.Second {
		errs = append(errs, fieldErrorf("keyframe_min_gap", "must be 0-10s, got %v", d))
	}
	errs = append(errs, prefixed("adaptive", e.Adaptive.problems())...)
	return errs
}
