package configs

import "go.yaml.in/yaml/v3"

// RTSPTransport is how an RTSP camera sends its RTP packets.
type RTSPTransport string

const (
	// TransportTCP interleaves RTP in the RTSP connection: works through
	// NAT and firewalls, no loss; the default.
	TransportTCP RTSPTransport = "tcp"
	// TransportUDP sends RTP on its own ports: less delay on a clean LAN.
	TransportUDP RTSPTransport = "udp"
)

var rtspTransports = []RTSPTransport{TransportTCP, TransportUDP}

func (t RTSPTransport) check() error { return checkEnum(t, "RTSP transport", rtspTransports) }

// UnmarshalYAML accepts "" as "not set": RTSP cameras default to tcp.
func (t *RTSPTransport) UnmarshalYAML(n *yaml.Node) error {
	v, err := decodeYAMLEnum(n, "RTSP transport", rtspTransports, true)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

func (t *RTSPTransport) UnmarshalJSON(data []byte) error {
	v, err := decodeJSONEnum(data, *t, "RTSP transport", rtspTransports)
	if err != nil {
		return err
	}
	*t = v
	return nil
}
