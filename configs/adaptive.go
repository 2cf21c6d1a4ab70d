package configs

// Adaptive is bandwidth adaptation: WebRTC viewers' congestion control
// (transport-wide CC, or REMB) says what each link takes, and the one
// encode follows the weakest of them, between MinBitrateKbps and the
// configured encoder bitrate (which FLV viewers always get).
type Adaptive struct {
	Enabled bool `yaml:"enabled"`
	// MinBitrateKbps is the floor: the encoder is never asked for less
	// (nor for more than the configured bitrate, when that is lower).
	MinBitrateKbps int `yaml:"min_bitrate_kbps"`
	// OutlierRatio: a viewer whose estimate is below this fraction of the
	// others' (their median) does not drag everyone down; it gets
	// keyframes only, as many as its link takes. 0 turns that off.
	OutlierRatio float64 `yaml:"outlier_ratio"`
	// LowerFramerateBelowKbps: below this target the frame rate is lowered
	// in steps, so each frame keeps about the bits it has at this rate
	// instead of turning to mush. 0 never lowers it.
	LowerFramerateBelowKbps int `yaml:"lower_framerate_below_kbps"`
	// MinFramerate is the lowest frame rate that lowering goes to.
	MinFramerate int `yaml:"min_framerate"`
}

// FloorKbps is the floor in effect for a configured bitrate.
func (a Adaptive) FloorKbps(bitrateKbps int) int { return min(a.MinBitrateKbps, bitrateKbps) }

func (a Adaptive) problems() []*FieldError {
	var errs []*FieldError
	if a.MinBitrateKbps < 50 || a.MinBitrateKbps > 20000 {
		errs = append(errs, fieldErrorf("min_bitrate_kbps", "must be 50-20000, got %d", a.MinBitrateKbps))
	}
	if a.OutlierRatio < 0 || a.OutlierRatio > 0.9 {
		errs = append(errs, fieldErrorf("outlier_ratio", "must be 0 (off) to 0.9, got %g", a.OutlierRatio))
	}
	if a.LowerFramerateBelowKbps < 0 || a.LowerFramerateBelowKbps > 20000 {
		errs = append(errs, fieldErrorf("lower_framerate_below_kbps", "must be 0 (never) to 20000, got %d", a.LowerFramerateBelowKbps))
	}
	if a.MinFramerate < 1 || a.MinFramerate > 60 {
		errs = append(errs, fieldErrorf("min_framerate", "must be 1-60, got %d", a.MinFramerate))
	}
	return errs
}
