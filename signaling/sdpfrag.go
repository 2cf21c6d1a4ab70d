package signaling

import (
	"fmt"
	"strings"

	"github.com/pion/webrtc/v4"
)

// trickleFrag is a parsed application/trickle-ice-sdpfrag body (RFC 8840),
// as WHEP clients PATCH it:
//
//	a=ice-ufrag:…
//	a=ice-pwd:…
//	m=audio 9 UDP/TLS/RTP/SAVPF 0
//	a=mid:0
//	a=candidate:…
//	a=end-of-candidates
type trickleFrag struct {
	UFrag      string
	Pwd        string
	Candidates []webrtc.ICECandidateInit
	End        bool
}

// parseTrickleFrag parses an sdpfrag. Lines other than a= and m= lines are
// rejected; unknown attributes are ignored.
func parseTrickleFrag(body string) (trickleFrag, error) {
	var (
		f      trickleFrag
		mid    *string
		mIndex = -1
	)
	for n, line := range strings.Split(body, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			continue
		}
		if len(line) < 2 || line[1] != '=' {
			return f, fmt.Errorf("line %d: not an SDP line", n+1)
		}
		val := line[2:]
		switch line[0] {
		case 'm':
			mIndex++
			mid = nil
		case 'a':
			key, v, _ := strings.Cut(val, ":")
			switch key {
			case "ice-ufrag":
				f.UFrag = v
			case "ice-pwd":
				f.Pwd = v
			case "mid":
				m := v
				mid = &m
			case "end-of-candidates":
				f.End = true
			case "candidate":
				if v == "" {
					return f, fmt.Errorf("line %d: empty candidate", n+1)
				}
				if len(f.Candidates) >= maxCandidates {
					return f, fmt.Errorf("more than %d candidates", maxCandidates)
				}
				c := webrtc.ICECandidateInit{Candidate: val}
				if mid != nil {
					m := *mid
					c.SDPMid = &m
				}
				idx := uint16(0)
				if mIndex > 0 {
					idx = uint16(mIndex)
				}
				c.SDPMLineIndex = &idx
				if f.UFrag != "" {
					u := f.UFrag
					c.UsernameFragment = &u
				}
				f.Candidates = append(f.Candidates, c)
			}
		default:
			// v=, o=, s=, t=, c= … are not expected in a fragment but harmless.
		}
	}
	return f, nil
}
