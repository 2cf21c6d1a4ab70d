package configs

import "testing"

func TestICEPortAndAdditionalHosts(t *testing.T) {
	for _, tt := range []struct{ doc, want string }{
		{lines("webrtc:", "  ice_port: 0"), ""},
		{lines("webrtc:", "  ice_port: 8555", "  additional_hosts: [203.0.113.7, '2001:db8::1', cam.example.org, pi]"), ""},
		{lines("webrtc:", "  ice_port: 70000"), "pipcam.yaml:2: webrtc.ice_port: port 70000 must be 0-65535"},
		{lines("webrtc:", "  ice_port: -1"), "webrtc.ice_port: port -1 must be 0-65535"},
		{lines("http:", "  listen: ':8189'"), "webrtc.ice_port: 8189 is http.listen's port too"},
		{lines("webrtc:", "  max_viewers: 400"), ""},
		{lines("webrtc:", "  max_viewers: 0"), "pipcam.yaml:2: webrtc.max_viewers: 0 is not between 1 and 2000"},
		{lines("webrtc:", "  max_viewers: 2001"), "pipcam.yaml:2: webrtc.max_viewers: 2001 is not between 1 and 2000"},
		{lines("webrtc:", "  ice_port: 7272"), "webrtc.ice_port: 7272 is flv.listen's port too"},
		{lines("webrtc:", "  additional_hosts:", "    - 203.0.113.7:8189"), `pipcam.yaml:3: webrtc.additional_hosts[0]: "203.0.113.7:8189" is not an IP address or a host name`},
		{lines("webrtc:", "  additional_hosts: ['http://x']"), `webrtc.additional_hosts[0]: "http://x" is not`},
		{lines("webrtc:", "  additional_hosts: ['']"), `webrtc.additional_hosts[0]: "" is not`},
	} {
		wantParse(t, tt.doc, tt.want)
	}
	if got := Default().WebRTC.ICEPort; got != 8189 {
		t.Errorf("default ice_port %d, want 8189", got)
	}
}
