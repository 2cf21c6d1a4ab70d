package configs

import "go.yaml.in/yaml/v3"

// PrinterType is where the overlay gets the printer status from.
type PrinterType string

const (
	PrinterNone      PrinterType = "none"
	PrinterOctoPrint PrinterType = "octoprint"
	PrinterMoonraker PrinterType = "moonraker"
)

// printerTypes lists the valid values; a new source is one more constant
// here and one more case in the overlay.
var printerTypes = []PrinterType{PrinterNone, PrinterOctoPrint, PrinterMoonraker}

// DefaultMoonrakerURL is printer.url for type moonraker when the file
// gives none: Moonraker's own port on the same machine (the default URL
// is OctoPrint's).
const DefaultMoonrakerURL = "http://127.0.0.1:7125"

// derivePrinterURL points printer.url at Moonraker's port for type
// moonraker, unless the file set the URL.
func derivePrinterURL(cfg *Config, given lineIndex) {
	if cfg.Printer.Type == PrinterMoonraker && !given.has("printer.url") {
		cfg.Printer.URL = DefaultMoonrakerURL
	}
}

func (p PrinterType) check() error { return checkEnum(p, "printer type", printerTypes) }

func (p *PrinterType) UnmarshalYAML(n *yaml.Node) error {
	v, err := decodeYAMLEnum(n, "printer type", printerTypes, false)
	if err != nil {
		return err
	}
	*p = v
	return nil
}

func (p *PrinterType) UnmarshalJSON(data []byte) error {
	v, err := decodeJSONEnum(data, *p, "printer type", printerTypes)
	if err != nil {
		return err
	}
	*p = v
	return nil
}
