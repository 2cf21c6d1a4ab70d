package configs

import "go.yaml.in/yaml/v3"

// PrinterTransport is how the status is fetched: the server's push socket,
// polling its REST API, or push falling back to polling (auto).
type PrinterTransport string

const (
	TransportAuto PrinterTransport = "auto"
	TransportPush PrinterTransport = "push"
	TransportPoll PrinterTransport = "poll"
)

var printerTransports = []PrinterTransport{TransportAuto, TransportPush, TransportPoll}

func (t PrinterTransport) check() error {
	return checkEnum(t, "printer transport", printerTransports)
}

func (t *PrinterTransport) UnmarshalYAML(n *yaml.Node) error {
	v, err := decodeYAMLEnum(n, "printer transport", printerTransports, false)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

func (t *PrinterTransport) UnmarshalJSON(data []byte) error {
	v, err := decodeJSONEnum(data, *t, "printer transport", printerTransports)
	if err != nil {
		return err
	}
	*t = v
	return nil
}
