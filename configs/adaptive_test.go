package configs

import (
	"strings"
	"testing"
)

func TestAdaptiveValidation(t *testing.T) {
	got := parseErr(t, lines(
		"encoder:",
		"  adaptive:",
		"    enabled: true",
		"    min_bitrate_kbps: 10",
		"    outlier_ratio: 1.5",
		"    lower_framerate_below_kbps: -1",
		"    min_framerate: 0",
	))
	for _, want := range []string{
		"pipcam.yaml:4: encoder.adaptive.min_bitrate_kbps: must be 50-20000, got 10",
		"pipcam.yaml:5: encoder.adaptive.outlier_ratio: must be 0 (off) to 0.9, got 1.5",
		"pipcam.yaml:6: encoder.adaptive.lower_framerate_below_kbps: must be 0 (never) to 20000, got -1",
		"pipcam.yaml:7: encoder.adaptive.min_framerate: must be 1-60, got 0",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if got := parseErr(t, lines("encoder:", "  adaptive:", "    enabled: maybe")); !strings.Contains(got, "pipcam.yaml:3") {
		t.Errorf("a bad boolean: %s", got)
	}
	// Off, and a floor above a low configured bitrate: valid, the floor
	// is the bitrate.
	cfg, err := Parse([]byte(lines("encoder:", "  bitrate_kbps: 80", "  adaptive:", "    enabled: false")), "pipcam.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if a := cfg.Encoder.Adaptive; a.Enabled || a.FloorKbps(cfg.Encoder.BitrateKbps) != 80 || a.MinBitrateKbps != 100 {
		t.Errorf("adaptive %+v, floor %d", a, a.FloorKbps(cfg.Encoder.BitrateKbps))
	}
}
