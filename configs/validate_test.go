package configs

import (
	"strings"
	"testing"
)

// Each bad case names the exact "file:line: field:" prefix it must produce,
// so the table checks file, line and path as well as the reason.
func TestParseRules(t *testing.T) {
	v4l2 := func(extra ...string) string {
		return lines(append([]string{"cameras:", "  - name: cam", "    type: v4l2", "    device: /dev/null"}, extra...)...)
	}
	tests := []struct {
		name string
		doc  string
		want string // "" = valid
	}{
		// cameras
		{"one camera", lines("cameras:", "  - name: x"), ""},
		{"no cameras", lines("cameras: []"), "pipcam.yaml:1: cameras: need 1 or 2 cameras, got 0"},
		{"three cameras", lines("cameras:", "  - name: a", "  - name: b", "  - name: c"), "pipcam.yaml:1: cameras: need 1 or 2 cameras, got 3"},
		{"name missing", lines("cameras:", "  - type: test"), "pipcam.yaml:2: cameras[0].name: required"},
		{"name upper", lines("cameras:", "  - name: Front"), "pipcam.yaml:2: cameras[0].name: \"Front\" must be 1-32"},
		{"name leading dash", lines("cameras:", "  - name: -a"), "pipcam.yaml:2: cameras[0].name:"},
		{"name 32 ok", lines("cameras:", "  - name: "+strings.Repeat("a", 32)), ""},
		{"name 33", lines("cameras:", "  - name: "+strings.Repeat("a", 33)), "pipcam.yaml:2: cameras[0].name:"},
		{"name chars ok", lines("cameras:", "  - name: 0cam_b-2"), ""},
		{"duplicate names", lines("cameras:", "  - name: a", "  - name: a"), "pipcam.yaml:3: cameras[1].name: \"a\" is already the name of cameras[0]"},
		{"bad type", lines("cameras:", "  - name: a", "    type: usb"), "pipcam.yaml:3: cameras[0].type: unknown camera type \"usb\" (valid: test, v4l2, libcamera, mjpeg, snapshot, rtsp)"},
		{"bad pattern", lines("cameras:", "  - name: a", "    pattern: plaid"), "pipcam.yaml:3: cameras[0].pattern: unknown test pattern \"plaid\" (valid: smpte, snow,"},
		{"every pattern", lines("cameras:", "  - name: a", "    pattern: chroma-zone-plate", "  - name: b", "    pattern: colors"), ""},
		{"device on test camera", lines("cameras:", "  - name: a", "    device: /dev/null"), "pipcam.yaml:3: cameras[0].device: only used by v4l2 and libcamera cameras (this one is type test)"},
		{"format on test camera", lines("cameras:", "  - name: a", "    format: raw"), "pipcam.yaml:3: cameras[0].format: only used by v4l2 cameras"},
		{"v4l2 ok", v4l2(), ""},
		{"v4l2 raw", v4l2("    format: raw"), ""},
		{"v4l2 bad format", v4l2("    format: h264"), "pipcam.yaml:5: cameras[0].format: unknown capture format \"h264\" (valid: auto, raw, mjpeg)"},
		{"v4l2 pattern", v4l2("    pattern: ball"), "pipcam.yaml:5: cameras[0].pattern: only used by test cameras"},
		{"v4l2 no device", lines("cameras:", "  - name: cam", "    type: v4l2"), "pipcam.yaml:2: cameras[0].device: required"},
		// Unplugged at start is not a config error: the camera is retried.
		{"v4l2 absent device", lines("cameras:", "  - name: a", "  - name: cam", "    type: v4l2", "    device: /dev/v4l/by-id/usb-not-plugged-in-video-index0"), ""},
		{"v4l2 relative", lines("cameras:", "  - name: cam", "    type: v4l2", "    device: video0"), "pipcam.yaml:4: cameras[0].device: \"video0\" must be a path under /dev/"},
		{"v4l2 outside dev", lines("cameras:", "  - name: cam", "    type: v4l2", "    device: /etc/passwd"), "pipcam.yaml:4: cameras[0].device:"},
		{"v4l2 dotdot", lines("cameras:", "  - name: cam", "    type: v4l2", "    device: /dev/../etc/passwd"), "pipcam.yaml:4: cameras[0].device: \"/dev/../etc/passwd\" must be"},
		{"v4l2 space", lines("cameras:", "  - name: cam", "    type: v4l2", "    device: /dev/my cam"), "pipcam.yaml:4: cameras[0].device:"},
		{"v4l2 bare dev", lines("cameras:", "  - name: cam", "    type: v4l2", "    device: /dev/"), "pipcam.yaml:4: cameras[0].device:"},
		{"camera size ok", lines("cameras:", "  - name: a", "    width: 1280", "    height: 720", "    framerate: 120"), ""},
		{"camera width small", lines("cameras:", "  - name: a", "    width: 8"), "pipcam.yaml:3: cameras[0].width: must be 0 (the output's) or 16-4096, got 8"},
		{"camera height odd", lines("cameras:", "  - name: a", "    height: 481"), "pipcam.yaml:3: cameras[0].height: must be even, got 481"},
		{"camera width big", lines("cameras:", "  - name: a", "    width: 4098"), "pipcam.yaml:3: cameras[0].width:"},
		{"camera fps", lines("cameras:", "  - name: a", "    framerate: 121"), "pipcam.yaml:3: cameras[0].framerate: must be 0 (the output's) or 1-120, got 121"},
		{"camera fps negative", lines("cameras:", "  - name: a", "    framerate: -1"), "pipcam.yaml:3: cameras[0].framerate:"},

		// output
		{"output ok", lines("output:", "  width: 16", "  height: 4096", "  framerate: 60"), ""},
		{"output zero", lines("output:", "  width: 0"), "pipcam.yaml:2: output.width: must be 16-4096, got 0"},
		{"output odd", lines("output:", "  height: 479"), "pipcam.yaml:2: output.height: must be even, got 479"},
		{"output fps", lines("output:", "  framerate: 61"), "pipcam.yaml:2: output.framerate: must be 1-60, got 61"},
		{"output fps zero", lines("output:", "  framerate: 0"), "pipcam.yaml:2: output.framerate:"},

		// layout (more in TestLayoutValidate)
		{"layout mode", lines("layout:", "  mode: grid"), "pipcam.yaml:2: layout.mode: unknown layout mode \"grid\""},
		{"layout main", lines("layout:", "  main: c"), "pipcam.yaml:2: layout.main: \"c\" is not a camera (cameras: a, b)"},
		{"layout inset", lines("layout:", "  inset: c"), "pipcam.yaml:2: layout.inset: \"c\" is not a camera (cameras: a, b)"},
		{"layout inset same", lines("layout:", "  inset: a"), "pipcam.yaml:2: layout.inset: \"a\" is also main"},
		{"layout corner", lines("layout:", "  corner: middle"), "pipcam.yaml:2: layout.corner: unknown corner \"middle\""},
		{"layout size", lines("layout:", "  size: 0.6"), "pipcam.yaml:2: layout.size: must be 0.1-0.5"},
		{"layout size nan", lines("layout:", "  size: .nan"), "pipcam.yaml:2: layout.size:"},
		{"layout margin", lines("layout:", "  margin: 201"), "pipcam.yaml:2: layout.margin: must be 0-200 pixels, got 201"},
		{"layout absent inset", lines("layout:", "  mode: pip", "  inset: \"\""), "pipcam.yaml:3: layout.inset: required in mode pip"},
		{"layout single no inset", lines("layout:", "  mode: single", "  inset: \"\""), ""},
		{"layout edges", lines("layout:", "  size: 0.1", "  margin: 0", "  mode: side-by-side"), ""},

		// encoder
		{"encoder ok", lines("encoder:", "  element: v4l2h264enc", "  bitrate_kbps: 20000", "  keyframe_interval: 60s", "  keyframe_min_gap: 0s"), ""},
		{"encoder element", lines("encoder:", "  element: nvh264enc"), "pipcam.yaml:2: encoder.element: unknown encoder element \"nvh264enc\" (valid: auto, x264enc, v4l2h264enc, omxh264enc)"},
		{"bitrate low", lines("encoder:", "  bitrate_kbps: 49"), "pipcam.yaml:2: encoder.bitrate_kbps: must be 50-20000, got 49"},
		{"bitrate high", lines("encoder:", "  bitrate_kbps: 20001"), "pipcam.yaml:2: encoder.bitrate_kbps:"},
		{"keyframe short", lines("encoder:", "  keyframe_interval: 99ms"), "pipcam.yaml:2: encoder.keyframe_interval: must be 100ms-60s, got 99ms"},
		{"keyframe long", lines("encoder:", "  keyframe_interval: 61s"), "pipcam.yaml:2: encoder.keyframe_interval:"},
		{"keyframe no unit", lines("encoder:", "  keyframe_interval: 2"), "pipcam.yaml:2: encoder.keyframe_interval: invalid duration \"2\": want a number with a unit"},
		{"keyframe negative", lines("encoder:", "  keyframe_interval: -2s"), "pipcam.yaml:2: encoder.keyframe_interval: duration \"-2s\" is negative"},
		{"min gap long", lines("encoder:", "  keyframe_min_gap: 11s"), "pipcam.yaml:2: encoder.keyframe_min_gap: must be 0-10s, got 11s"},

		// overlay
		{"overlay empty text", lines("overlay:", "  text: \"\""), ""},
		{"overlay newline", lines("overlay:", "  text: \"a\\nb\""), ""},
		{"overlay 4096", lines("overlay:", "  text: "+strings.Repeat("x", 4096)), ""},
		{"overlay 4097", lines("overlay:", "  text: "+strings.Repeat("x", 4097)), "pipcam.yaml:2: overlay.text: too long: 4097 bytes, at most 4096"},
		{"overlay tab", lines("overlay:", "  text: \"a\\tb\""), "pipcam.yaml:2: overlay.text: contains control character U+0009"},
		{"overlay bad utf8", lines("overlay:", "  text: !!binary /w=="), "pipcam.yaml:2: overlay.text: not valid UTF-8"},
		{"overlay font ok", lines("overlay:", "  font: DejaVu Sans Mono, Bold"), ""},
		{"overlay font size", lines("overlay:", "  font: DejaVu Sans Mono, Bold 10.5"), "pipcam.yaml:2: overlay.font: \"DejaVu Sans Mono, Bold 10.5\" ends in a size"},
		{"overlay font quote", lines("overlay:", "  font: \"Sans' ! 12\""), "pipcam.yaml:2: overlay.font: \"Sans' ! 12\" must be 1-64"},
		{"overlay font empty", lines("overlay:", "  font: \"\""), "pipcam.yaml:2: overlay.font:"},
		{"overlay position", lines("overlay:", "  position: center"), "pipcam.yaml:2: overlay.position: unknown corner \"center\""},

		// http and flv
		{"http loopback", lines("http:", "  listen: 127.0.0.1:8080"), ""},
		{"http localhost", lines("http:", "  listen: localhost:0"), ""},
		{"http ipv6", lines("http:", "  listen: \"[::1]:8080\""), ""},
		{"http no port", lines("http:", "  listen: \"8080\""), "pipcam.yaml:2: http.listen: \"8080\" is not host:port"},
		{"http port big", lines("http:", "  listen: \":65536\""), "pipcam.yaml:2: http.listen: port \"65536\" must be a number 0-65535"},
		{"http port name", lines("http:", "  listen: \":http\""), "pipcam.yaml:2: http.listen: port \"http\""},
		{"http hostname", lines("http:", "  listen: pi.local:8080"), "pipcam.yaml:2: http.listen: host \"pi.local\" must be empty (all interfaces), localhost or an IP address"},
		{"flv ip", lines("flv:", "  listen: 0.0.0.0:7272"), ""},
		{"flv localhost", lines("flv:", "  listen: localhost:7272"), "pipcam.yaml:2: flv.listen: host \"localhost\" must be empty (all interfaces) or an IP address"},
		{"same port", lines("http:", "  listen: \":9000\"", "flv:", "  listen: 127.0.0.1:9000"), "pipcam.yaml:4: flv.listen: port 9000 is already http.listen's"},
		{"both port 0", lines("http:", "  listen: \":0\"", "flv:", "  listen: \":0\""), ""},
		{"origins ok", lines("http:", "  allowed_origins: [\"http://octopi.local\", \"https://192.168.1.20:5000\", \"http://[fd00::1]:8080\"]"), ""},
		{"origin star", lines("http:", "  allowed_origins:", "    - \"*\""), "pipcam.yaml:3: http.allowed_origins[0]: \"*\" would let any web page change pipcam"},
		{"origin path", lines("http:", "  allowed_origins:", "    - http://octopi.local/", "    - http://a"), "pipcam.yaml:3: http.allowed_origins[0]: \"http://octopi.local/\": write it as browsers send it: http://octopi.local"},
		{"origin case", lines("http:", "  allowed_origins: [\"http://OctoPi.local\"]"), "write it as browsers send it: http://octopi.local"},
		{"origin scheme", lines("http:", "  allowed_origins: [\"octopi.local\"]"), "pipcam.yaml:2: http.allowed_origins[0]: \"octopi.local\" is not an origin"},
		{"origin empty port", lines("http:", "  allowed_origins: [\"http://a:\"]"), "has an empty port"},
		{"ignore client ice", lines("webrtc:", "  ignore_client_ice_servers: true"), ""},

		// webrtc
		{"stun ok", lines("webrtc:", "  ice_servers:", "    - urls: [\"stun:stun.l.google.com:19302\"]"), ""},
		{"turn ok", lines("webrtc:", "  ice_servers:", "    - urls: [\"turns:t.example.org:5349\"]", "      username: u", "      credential: p"), ""},
		{"no urls", lines("webrtc:", "  ice_servers:", "    - urls: []"), "pipcam.yaml:3: webrtc.ice_servers[0].urls: need at least one URL"},
		{"no urls key", lines("webrtc:", "  ice_servers:", "    - username: u"), "pipcam.yaml:3: webrtc.ice_servers[0].urls: need at least one URL"},
		{"bad scheme", lines("webrtc:", "  ice_servers:", "    - urls:", "        - stun:a.org", "        - http://a.org"), "pipcam.yaml:5: webrtc.ice_servers[0].urls[1]: \"http://a.org\" must start with stun:, stuns:, turn: or turns:"},
		{"malformed host", lines("webrtc:", "  ice_servers:", "    - urls: [\"stun:[0]0\"]"), "pipcam.yaml:3: webrtc.ice_servers[0].urls[0]: \"stun:[0]0\" is not a STUN/TURN URL"},
		{"turn tcp ok", lines("webrtc:", "  ice_servers:", "    - urls: [\"turn:[2001:db8::1]:3478?transport=tcp\", \"stuns:s.example\"]", "      username: u", "      credential: p"), ""},
		{"empty host", lines("webrtc:", "  ice_servers:", "    - urls: [\"stun:\"]"), "pipcam.yaml:3: webrtc.ice_servers[0].urls[0]: \"stun:\" names no server"},
		{"turn no user", lines("webrtc:", "  ice_servers:", "    - urls: [\"turn:t.org\"]", "      credential: p"), "pipcam.yaml:3: webrtc.ice_servers[0].username: required for a TURN server"},
		{"turn no credential", lines("webrtc:", "  ice_servers:", "    - urls: [\"turn:t.org\"]", "      username: u"), "pipcam.yaml:3: webrtc.ice_servers[0].credential: required for a TURN server"},

		// log
		{"log ok", lines("log:", "  level: debug"), ""},
		{"log bad", lines("log:", "  level: verbose"), "pipcam.yaml:2: log.level: unknown log level \"verbose\" (valid: debug, info, warn, error)"},

		// http.token_file
		{"token file ok", lines("http:", "  token_file: /home/pi/.pipcam-token"), ""},
		{"token file off", lines("http:", "  token_file: \"\""), ""},
		{"token file relative", lines("http:", "  token_file: token"), "pipcam.yaml:2: http.token_file: \"token\" must be an absolute path"},
		{"token file dir", lines("http:", "  token_file: /var/lib/pipcam/"), "pipcam.yaml:2: http.token_file: \"/var/lib/pipcam/\" names a directory"},

		// jpeg
		{"jpeg ok", lines("jpeg:", "  enabled: false", "  framerate: 30", "  quality: 10"), ""},
		{"jpeg fps zero", lines("jpeg:", "  framerate: 0"), "pipcam.yaml:2: jpeg.framerate: must be 1-30, got 0"},
		{"jpeg fps big", lines("jpeg:", "  framerate: 31"), "pipcam.yaml:2: jpeg.framerate: must be 1-30, got 31"},
		{"jpeg quality", lines("jpeg:", "  quality: 101"), "pipcam.yaml:2: jpeg.quality: must be 10-100, got 101"},
		{"jpeg enabled not bool", lines("jpeg:", "  enabled: maybe"), "pipcam.yaml:2: jpeg.enabled:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantParse(t, tt.doc, tt.want) })
	}
}

func TestValidateWithoutFile(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default() does not validate: %v", err)
	}
	c := Default()
	c.Encoder.BitrateKbps = 1
	c.Cameras[1].Name = "A"
	err := c.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	want := "cameras[1].name: \"A\" must be 1-32 of a-z, 0-9, _ and -, starting with a letter or digit\n" +
		"layout.inset: \"b\" is not a camera (cameras: a, A)\n" +
		"encoder.bitrate_kbps: must be 50-20000, got 1"
	if err.Error() != want {
		t.Errorf("got:\n%s\nwant:\n%s", err, want)
	}
}

func TestZeroConfigInvalid(t *testing.T) {
	err := (&Config{}).Validate()
	if err == nil {
		t.Fatal("the zero Config must not validate")
	}
	for _, field := range []string{"cameras:", "output.width:", "layout.mode:", "encoder.element:", "overlay.font:", "http.listen:", "flv.listen:", "log.level:"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("missing %s in:\n%s", field, err)
		}
	}
}

// The MJPEG stream never runs faster than the picture it encodes.
func TestMJPEGRateCapsAtOutput(t *testing.T) {
	c := Default()
	if got := c.MJPEGRate(); got != 5 {
		t.Errorf("default MJPEG rate %d, want 5", got)
	}
	c.JPEG.Framerate, c.Output.Framerate = 30, 10
	if got := c.MJPEGRate(); got != 10 {
		t.Errorf("MJPEG rate %d with output at 10 fps, want 10", got)
	}
}
