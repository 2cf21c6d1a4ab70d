// Package configs holds pipcam's configuration: the YAML schema, the
// built-in defaults, strict loading with file:line errors, and Redact for
// showing a config without its secrets. It imports nothing of pipcam's.
package configs

// Config is the whole of pipcam's configuration. The zero value is not
// usable: start from Default() or Load().
type Config struct {
	Cameras []Camera `yaml:"cameras"`
	Output  Output   `yaml:"output"`
	Layout  Layout   `yaml:"layout"`
	Encoder Encoder  `yaml:"encoder"`
	Overlay Overlay  `yaml:"overlay"`
	Printer Printer  `yaml:"printer"`
	HTTP    HTTP     `yaml:"http"`
	FLV     FLV      `yaml:"flv"`
	WebRTC  WebRTC   `yaml:"webrtc"`
	Log     Log      `yaml:"log"`
	JPEG    JPEG     `yaml:"jpeg"`
	// Push and Recording are the two outputs beyond viewers (push.go,
	// recording.go).
	Push      Push      `yaml:"push"`
	Recording Recording `yaml:"recording"`
}

// Camera is one video source. Which fields apply depends on Type.
type Camera struct {
	// Name identifies the camera in the layout and the API: 1-32 of [a-z0-9_-],
	// starting with a letter or digit.
	Name string     `yaml:"name"`
	Type CameraType `yaml:"type"`
	// Pattern is the test pattern for Type test (videotestsrc's pattern nicks).
	Pattern TestPattern `yaml:"pattern"`
	// Device is the V4L2 device for Type v4l2: an absolute path under /dev.
	Device string `yaml:"device"`
	// Format is what the V4L2 camera is asked for: raw or mjpeg.
	Format CaptureFormat `yaml:"format"`
	// Capture size and rate; 0 means "the output's".
	Width     int `yaml:"width"`
	Height    int `yaml:"height"`
	Framerate int `yaml:"framerate"`
	// URL of an IP camera (types mjpeg, snapshot, rtsp), without credentials.
	URL string `yaml:"url"`
	// Username and Password log in to an IP camera.
	Username string `yaml:"username"`
	Password Secret `yaml:"password"`
	// Transport is how an RTSP camera sends its packets: tcp or udp.
	Transport RTSPTransport `yaml:"transport"`
	// Rotate, Flip and Crop correct how the camera is mounted.
	Rotate Rotation `yaml:"rotate"`
	Flip   Flip     `yaml:"flip"`
	Crop   Crop     `yaml:"crop"`
	// StallTimeout is how long the camera may send no picture before it
	// counts as lost and is reconnected.
	StallTimeout Duration `yaml:"stall_timeout"`
}

// Output is the size and rate of the composite picture that is encoded.
type Output struct {
	Width     int `yaml:"width"`
	Height    int `yaml:"height"`
	Framerate int `yaml:"framerate"`
}

// Layout is how the cameras are arranged in the composite. It is also the
// body of GET/PUT /api/layout, so it carries JSON tags.
type Layout struct {
	Mode   LayoutMode `yaml:"mode" json:"mode"`
	Main   string     `yaml:"main" json:"main"`
	Inset  string     `yaml:"inset" json:"inset"`
	Corner Corner     `yaml:"corner" json:"corner"`
	// Size is the inset's width as a fraction of the output width (0.1-0.5).
	Size float64 `yaml:"size" json:"size"`
	// Margin is the inset's distance from the frame edges, in pixels.
	Margin int `yaml:"margin" json:"margin"`
}

// Encoder configures the one H.264 encode.
type Encoder struct {
	Element     EncoderElement `yaml:"element"`
	BitrateKbps int            `yaml:"bitrate_kbps"`
	// KeyframeInterval is the longest time between two IDR frames.
	KeyframeInterval Duration `yaml:"keyframe_interval"`
	// KeyframeMinGap rate-limits keyframes that viewers ask for (join, PLI, FIR).
	KeyframeMinGap Duration `yaml:"keyframe_min_gap"`
	// Adaptive lowers the bitrate (and, when very low, the frame rate) to
	// what WebRTC viewers' links take.
	Adaptive Adaptive `yaml:"adaptive"`
}

// Overlay is the text burnt into the picture and how it looks. The look
// (every field but Text) can change live through PUT /api/overlay.
type Overlay struct {
	// Text is a Go text/template rendered with the printer status (see
	// OverlayFuncs for its helpers); plain text is a template too.
	Text string `yaml:"text" json:"-"`
	// Font is a Pango family and style such as "Sans Bold".
	Font string `yaml:"font" json:"font"`
	// Size is the text size in points; 0 fits it to the picture.
	Size     int    `yaml:"size" json:"size"`
	Position Corner `yaml:"position" json:"position"`
	Color    Color  `yaml:"color" json:"color"`
	// Shade is how dark the box behind the text is: 0 none, 255 black.
	Shade       int         `yaml:"shade" json:"shade"`
	ProgressBar ProgressBar `yaml:"progress_bar" json:"progress_bar"`
}

// Printer is the 3D printer whose status the overlay shows.
type Printer struct {
	Type PrinterType `yaml:"type"`
	// URL is the printer server's base URL, http or https, path prefix allowed.
	URL string `yaml:"url"`
	// APIKey, else the contents of APIKeyFile, else $PIPCAM_PRINTER_API_KEY
	// (see ResolveAPIKey).
	APIKey     Secret           `yaml:"api_key"`
	APIKeyFile string           `yaml:"api_key_file"`
	Transport  PrinterTransport `yaml:"transport"`
}

// HTTP is the web server: WHEP, /webrtc, the API.
type HTTP struct {
	Listen string `yaml:"listen"` // host:port, host may be empty
	// Token guards control endpoints when Listen is beyond loopback.
	Token Secret `yaml:"token"`
	// AllowedOrigins may call control endpoints from a browser (CORS);
	// viewing endpoints answer every origin.
	AllowedOrigins []Origin `yaml:"allowed_origins"`
	// TokenFile holds the control token made at first start when Token is
	// empty; "" turns that off.
	TokenFile TokenFile `yaml:"token_file"`
}

// FLV is the H.264-in-FLV TCP server that VLC opens as tcp://host:port.
type FLV struct {
	Listen string `yaml:"listen"` // host:port; host empty or an IP address
}

// WebRTC configures the peers.
type WebRTC struct {
	ICEServers []ICEServer `yaml:"ice_servers"`
	// IgnoreClientICEServers: do not gather with the STUN/TURN servers a
	// camera-streamer client sends in its request (camera-streamer's
	// disable_client_ice).
	IgnoreClientICEServers bool `yaml:"ignore_client_ice_servers"`
	// ICEPort is the one UDP port, and ICE-TCP port of the same number,
	// that every viewer's media flows through (0: a free one).
	ICEPort ICEPort `yaml:"ice_port"`
	// AdditionalHosts are advertised as host candidates on ICEPort besides
	// the host's own addresses: a port forward's public address, a name.
	AdditionalHosts []AdditionalHost `yaml:"additional_hosts"`
	// MaxViewers caps the WebRTC viewers at once; one more is told 503.
	MaxViewers int `yaml:"max_viewers"`
}

// ICEServer is a STUN or TURN server handed to peers.
type ICEServer struct {
	URLs       []string `yaml:"urls" json:"urls"`
	Username   string   `yaml:"username" json:"username,omitempty"`
	Credential Secret   `yaml:"credential" json:"credential,omitempty"`
}

// Log configures logging.
type Log struct {
	Level LogLevel `yaml:"level"`
}

// JPEG is the on-demand JPEG branch: snapshots and the MJPEG stream.
type JPEG struct {
	// Enabled false leaves the branch out of the graph (snapshot and MJPEG
	// endpoints then answer 404).
	Enabled bool `yaml:"enabled"`
	// Framerate is the MJPEG stream's rate; it never exceeds the output's.
	Framerate int `yaml:"framerate"`
	// Quality is jpegenc's quality, 10-100.
	Quality int `yaml:"quality"`
}
