package configs

import (
	"path/filepath"
	"strings"
)

// DefaultRecordingDir is where print recordings are kept.
const DefaultRecordingDir = "/var/lib/pipcam/recordings"

// Recording records every print: the composite as viewers see it
// (overlay included), one file per print, the oldest removed beyond the
// limits.
type Recording struct {
	// Enabled records each print, from OctoPrint's print start to its end.
	Enabled bool `yaml:"enabled"`
	// Dir holds the recordings: an absolute path, made if missing.
	Dir string `yaml:"dir"`
	// KeepPrints is how many recordings are kept at most; 0: no limit.
	KeepPrints int `yaml:"keep_prints"`
	// KeepSize is how much they may take together at most; 0: no limit.
	KeepSize ByteSize `yaml:"keep_size"`
}

func (r Recording) problems(printer PrinterType) []*FieldError {
	var errs []*FieldError
	if r.Enabled && printer == PrinterNone {
		errs = append(errs, fieldErrorf("enabled", "recording follows a printer's prints; set printer.type (it is none)"))
	}
	switch {
	case len(r.Dir) > 1024:
		errs = append(errs, fieldErrorf("dir", "path is %d bytes long, at most 1024", len(r.Dir)))
	case strings.ContainsAny(r.Dir, "\x00\n\r"):
		errs = append(errs, fieldErrorf("dir", "path contains a control character"))
	case !filepath.IsAbs(r.Dir):
		errs = append(errs, fieldErrorf("dir", "%q must be an absolute path, such as %s", r.Dir, DefaultRecordingDir))
	}
	if r.KeepPrints < 0 || r.KeepPrints > 100000 {
		errs = append(errs, fieldErrorf("keep_prints", "must be 0 (no limit) or 1-100000, got %d", r.KeepPrints))
	}
	if r.KeepSize < 0 {
		errs = append(errs, fieldErrorf("keep_size", "must not be negative"))
	}
	return errs
}
