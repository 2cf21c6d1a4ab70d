package signaling

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/pion/webrtc/v4"
)

// camera-streamer's POST /webrtc: one JSON endpoint, four message types.
// The body is JSON whatever the Content-Type says (Mainsail sends
// text/plain;charset=UTF-8). Every success is 200 application/json.

type csMessage struct {
	Type       string        `json:"type"`
	ID         string        `json:"id,omitempty"`
	SDP        string        `json:"sdp,omitempty"`
	Candidates []csCandidate `json:"candidates,omitempty"`
	ICEServers []csICEServer `json:"iceServers,omitempty"`
	KeepAlive  *bool         `json:"keepAlive,omitempty"`
}

type csCandidate struct {
	Candidate     string  `json:"candidate"`
	SDPMid        *string `json:"sdpMid"`
	SDPMLineIndex *uint16 `json:"sdpMLineIndex"`
}

type csICEServer struct {
	URLs       stringList `json:"urls"`
	Username   string     `json:"username,omitempty"`
	Credential string     `json:"credential,omitempty"`
}

// stringList accepts "urls" as a string or an array (RTCIceServer allows both).
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("urls must be a string or an array of strings")
	}
	*l = many
	return nil
}

type csOfferReply struct {
	Type       string        `json:"type"`
	ID         string        `json:"id"`
	SDP        string        `json:"sdp"`
	ICEServers []csICEServer `json:"iceServers"` // always present, [] if none
}

type csAnswerReply struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	SDP  string `json:"sdp"`
}

func (s *Server) onCameraStreamer(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		s.rejectBody(w, r, writeJSONError, err)
		return
	}
	var msg csMessage
	if err := decodeObject(body, &msg, false); err != nil {
		s.reject(w, r, writeJSONError, http.StatusBadRequest, "malformed JSON: "+err.Error())
		return
	}
	switch msg.Type {
	case "request":
		s.csRequest(w, r, msg)
	case "answer":
		s.csAnswer(w, r, msg)
	case "remote_candidate":
		s.csRemoteCandidate(w, r, msg)
	case "offer":
		s.csClientOffer(w, r, msg)
	case "":
		s.reject(w, r, writeJSONError, http.StatusBadRequest, `missing "type"`)
	default:
		s.reject(w, r, writeJSONError, http.StatusBadRequest, fmt.Sprintf("unknown type %q", msg.Type))
	}
}

// csRequest: the server offers (video sendonly) and the client answers
// later. Like camera-streamer, the server gathers with the client's ICE
// servers too (unless webrtc.ignore_client_ice_servers) and lists what it
// used in the reply.
func (s *Server) csRequest(w http.ResponseWriter, r *http.Request, msg csMessage) {
	ice := s.configuredICEServers()
	if !s.opts.WebRTC.IgnoreClientICEServers {
		client, err := clientICEServers(msg.ICEServers)
		if err != nil {
			s.reject(w, r, writeJSONError, http.StatusBadRequest, err.Error())
			return
		}
		ice = mergeICEServers(ice, client)
	}
	ss := s.startSession(w, r, protoCameraStreamer, ice, writeJSONError)
	if ss == nil {
		return
	}
	offer, err := ss.offer(r.Context())
	if err != nil {
		ss.close("offer failed")
		s.fail(w, r, writeJSONError, "create camera-streamer offer", err)
		return
	}
	reply := csOfferReply{Type: "offer", ID: ss.id, SDP: offer, ICEServers: []csICEServer{}}
	for _, is := range ss.ice {
		reply.ICEServers = append(reply.ICEServers, csICEServer{URLs: is.URLs, Username: is.Username, Credential: is.Credential})
	}
	writeJSON(w, http.StatusOK, reply)
}

func (s *Server) csAnswer(w http.ResponseWriter, r *http.Request, msg csMessage) {
	ss := s.session(msg.ID)
	if ss == nil {
		s.reject(w, r, writeJSONError, http.StatusNotFound, "no such session")
		return
	}
	if msg.SDP == "" {
		s.reject(w, r, writeJSONError, http.StatusBadRequest, `answer without "sdp"`)
		return
	}
	if err := checkOffer(msg.SDP); err != nil {
		s.reject(w, r, writeJSONError, http.StatusBadRequest, "bad answer: "+err.Error())
		return
	}
	if err := ss.setAnswer(msg.SDP); err != nil {
		s.reject(w, r, writeJSONError, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

func (s *Server) csRemoteCandidate(w http.ResponseWriter, r *http.Request, msg csMessage) {
	ss := s.session(msg.ID)
	if ss == nil {
		s.reject(w, r, writeJSONError, http.StatusNotFound, "no such session")
		return
	}
	var cands []webrtc.ICECandidateInit
	for _, c := range msg.Candidates {
		if c.Candidate == "" {
			continue // end-of-candidates
		}
		cands = append(cands, webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex})
	}
	if err := ss.addCandidates(cands); err != nil {
		s.reject(w, r, writeJSONError, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// csClientOffer: OctoPrint's classic webcam offers (video recvonly plus a
// recvonly audio m-line that is declined) and gets the answer at once.
func (s *Server) csClientOffer(w http.ResponseWriter, r *http.Request, msg csMessage) {
	ss, answer := s.answerOffer(w, r, protoCameraStreamer, msg.SDP, writeJSONError)
	if ss == nil {
		return
	}
	writeJSON(w, http.StatusOK, csAnswerReply{Type: "answer", ID: ss.id, SDP: answer})
}
