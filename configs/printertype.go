package configs

import "go.yaml.in/yaml/v3"

// PrinterType is where the overlay gets the printer status from.
type PrinterType string

const (
	PrinterNone      PrinterType = "none"
	PrinterOctoPrint PrinterType = "octoprint"
)

// printerTypes lists the valid values; a new source (Moonraker) is one
// more constant here and one more case in the overlay.
var printerTypes = []PrinterType{PrinterNone, PrinterOctoPrint}

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
