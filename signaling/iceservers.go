package signaling

import (
	"errors"
	"fmt"
	"slices"

	"github.com/pion/stun/v4"
	"github.com/pion/webrtc/v4"

	"github.com/pipcam/pipcam/configs"
)

// Bounds on the ICE servers a client may hand us: each one costs the
// session a socket and a STUN transaction (or a TURN allocation).
const (
	maxClientICEServers = 4
	maxClientICEURLs    = 8 // over all servers
	maxICEFieldLen      = 256
)

// iceServer is a STUN/TURN server a session gathers with: the configured
// ones, then those a camera-streamer client sent.
type iceServer struct {
	URLs       []string
	Username   string
	Credential string
}

func (s *Server) configuredICEServers() []iceServer {
	out := make([]iceServer, 0, len(s.opts.WebRTC.ICEServers))
	for _, is := range s.opts.WebRTC.ICEServers {
		out = append(out, iceServer{URLs: is.URLs, Username: is.Username, Credential: is.Credential.Reveal()})
	}
	return out
}

// clientICEServers checks the servers of a camera-streamer request:
// stun/stuns/turn/turns URLs that parse, TURN with credentials, bounded
// in count and length.
func clientICEServers(in []csICEServer) ([]iceServer, error) {
	if len(in) > maxClientICEServers {
		return nil, fmt.Errorf("iceServers: at most %d servers", maxClientICEServers)
	}
	var out []iceServer
	urls := 0
	for i, cs := range in {
		if len(cs.Username) > maxICEFieldLen || len(cs.Credential) > maxICEFieldLen {
			return nil, fmt.Errorf("iceServers[%d]: username or credential longer than %d bytes", i, maxICEFieldLen)
		}
		if len(cs.URLs) == 0 {
			return nil, fmt.Errorf("iceServers[%d]: no urls", i)
		}
		for _, u := range cs.URLs {
			if urls++; urls > maxClientICEURLs {
				return nil, fmt.Errorf("iceServers: at most %d URLs", maxClientICEURLs)
			}
			if err := checkICEURL(u, cs.Username, cs.Credential); err != nil {
				return nil, fmt.Errorf("iceServers[%d]: %w", i, err)
			}
		}
		out = append(out, iceServer{URLs: cs.URLs, Username: cs.Username, Credential: cs.Credential})
	}
	return out, nil
}

func checkICEURL(u, user, cred string) error {
	if len(u) > maxICEFieldLen {
		return fmt.Errorf("URL longer than %d bytes", maxICEFieldLen)
	}
	// The shape first: pion's parser must never see a malformed URL.
	if err := configs.CheckICEURL(u); err != nil {
		return err
	}
	p, err := stun.ParseURI(u)
	if err != nil {
		return fmt.Errorf("%q is not a stun:, stuns:, turn: or turns: URL", u)
	}
	if (p.Scheme == stun.SchemeTypeTURN || p.Scheme == stun.SchemeTypeTURNS) && (user == "" || cred == "") {
		return errors.New("a TURN server needs username and credential")
	}
	return nil
}

// mergeICEServers appends extra to base, leaving out servers base already
// has.
func mergeICEServers(base, extra []iceServer) []iceServer {
	out := slices.Clone(base)
	for _, e := range extra {
		if !slices.ContainsFunc(out, func(b iceServer) bool {
			return slices.Equal(b.URLs, e.URLs) && b.Username == e.Username && b.Credential == e.Credential
		}) {
			out = append(out, e)
		}
	}
	return out
}

func (is iceServer) webrtc() webrtc.ICEServer {
	srv := webrtc.ICEServer{URLs: is.URLs, Username: is.Username}
	if is.Credential != "" {
		srv.Credential = is.Credential
		srv.CredentialType = webrtc.ICECredentialTypePassword
	}
	return srv
}

// rtcConfiguration is a session's peer configuration: the shared DTLS
// certificate and the ICE servers to gather with.
func (s *Server) rtcConfiguration(ice []iceServer) (webrtc.Configuration, error) {
	var cfg webrtc.Configuration
	cert, err := s.certs.current()
	if err != nil {
		return cfg, err
	}
	cfg.Certificates = []webrtc.Certificate{cert}
	for _, is := range ice {
		cfg.ICEServers = append(cfg.ICEServers, is.webrtc())
	}
	return cfg, nil
}
