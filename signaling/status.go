package signaling

import (
	"net/http"
	"sort"
	"time"
)

// The fixed keys of /api/status; Options.Reports add one key each.
var statusKeys = []string{"viewers", "sessions", "stream", "ice"}

type sessionStatus struct {
	ID               string    `json:"id"` // first 8 characters
	Protocol         string    `json:"protocol"`
	State            string    `json:"state"`
	Client           string    `json:"client"`
	Since            time.Time `json:"since"`
	BytesSent        uint64    `json:"bytes_sent"` // RTP, headers included
	Packets          uint64    `json:"packets_sent"`
	Drops            uint64    `json:"au_drops"`          // AUs skipped because the viewer was slow
	KeyframeRequests uint64    `json:"keyframe_requests"` // PLI and FIR received
	RTCPUnparsed     uint64    `json:"rtcp_unparsed"`     // RTCP packets skipped because they did not parse
	Resent           uint64    `json:"nack_resent"`       // packets sent again for a NACK
	ResendRefused    uint64    `json:"nack_refused"`      // NACK answers congestion control held back
	// FeedbackAtSocket counts the transport-wide feedback packets read
	// at the ICE socket rather than through pion (feedbacktap.go).
	FeedbackAtSocket uint64 `json:"feedback_at_socket"`
	// RTPAtSocket: the viewer's packets are encrypted and queued at the
	// ICE socket rather than through pion (srtpsend.go).
	RTPAtSocket bool `json:"rtp_at_socket"`
	// EstimateKbps is what the viewer's link takes by its congestion
	// feedback (EstimateSource: "twcc" or "remb"; 0 and "" without).
	EstimateKbps   int    `json:"estimate_kbps"`
	EstimateSource string `json:"estimate_source"`
	// Receiving is "every frame", or "keyframes only: <why>".
	Receiving string `json:"receiving"`
	// CandidatePair is the ICE path in use (nil before one is chosen).
	CandidatePair *candidatePair `json:"candidate_pair"`
}

// iceStatus is the one ICE port (UDP and ICE-TCP) and what is advertised
// on it besides the host's addresses.
type iceStatus struct {
	Port            int      `json:"port"`
	AdditionalHosts []string `json:"additional_hosts"`
	// SendCalls sendmmsg calls sent BatchedPackets packets of access
	// units (batchsend.go) in SendMessages messages (fewer than the
	// packets with GSO: one per viewer per frame at best); packets sent
	// one by one are not counted. GSO is false with the reason in
	// GSOOff when the kernel or a route cannot segment.
	SendCalls      uint64 `json:"send_calls"`
	SendMessages   uint64 `json:"send_messages"`
	BatchedPackets uint64 `json:"batched_packets"`
	GSO            bool   `json:"gso"`
	GSOOff         string `json:"gso_off,omitempty"`
}

type streamStatus struct {
	BitrateKbps float64 `json:"bitrate_kbps"`
	FPS         float64 `json:"fps"`
	AccessUnits uint64  `json:"access_units"`
	Keyframes   uint64  `json:"keyframes"`
	Drops       uint64  `json:"viewer_drops"` // AUs dropped for slow viewers, all viewers together
	// Bandwidth adaptation (absent when it is off): the encoder's target,
	// the frame rate it runs at, and why.
	TargetKbps *int   `json:"target_kbps,omitempty"`
	TargetFPS  *int   `json:"target_fps,omitempty"`
	Adaptation string `json:"adaptation,omitempty"`
}

// Stats is a snapshot of what the server measures, for cmd/pipcam's
// /metrics or logs.
type Stats struct {
	Sessions    int
	Pending     int // sessions not connected yet
	Viewers     int // sessions receiving media
	BitrateKbps float64
	FPS         float64
	AccessUnits uint64
	Keyframes   uint64
	Drops       uint64
}

// Stats returns the current figures.
func (s *Server) Stats() Stats {
	kbps, fps := s.fan.meter.rates(time.Now())
	s.mu.Lock()
	n, p := len(s.sessions), s.pending
	s.mu.Unlock()
	return Stats{
		Sessions:    n,
		Pending:     p,
		Viewers:     s.fan.viewers(),
		BitrateKbps: kbps,
		FPS:         fps,
		AccessUnits: s.fan.aus.Load(),
		Keyframes:   s.fan.keyframes.Load(),
		Drops:       s.fan.drops.Load(),
	}
}

func (ss *session) status(d *decision) sessionStatus {
	ss.mu.Lock()
	st, sub := ss.state.String(), ss.sub
	ss.mu.Unlock()
	var drops uint64
	receiving := ""
	if sub != nil {
		drops = sub.drops.Load()
		receiving = "every frame"
		if v := d.viewers[ss.id]; v.keyOnly && sub.gate.keyOnly() {
			receiving = "keyframes only: " + v.why
		}
	}
	bps, source := ss.bw.estimate(time.Now())
	return sessionStatus{
		EstimateKbps:     bps / 1000,
		EstimateSource:   source,
		Receiving:        receiving,
		ID:               shortID(ss.id),
		Protocol:         ss.protocol,
		State:            st,
		Client:           ss.client,
		Since:            ss.created.UTC().Truncate(time.Second),
		BytesSent:        ss.bytesSent.Load(),
		Packets:          ss.packetsSent.Load(),
		Drops:            drops,
		KeyframeRequests: ss.keyRequests.Load(),
		RTCPUnparsed:     ss.rtcpErrors.Load(),
		Resent:           ss.resent.Load(),
		ResendRefused:    ss.resendRefused.Load(),
		FeedbackAtSocket: ss.feedbackAtSocket(),
		RTPAtSocket:      sub != nil && sub.w != nil && sub.w.tx.atSocket(),
		CandidatePair:    ss.pair.Load(),
	}
}

func (s *Server) onStatus(w http.ResponseWriter, _ *http.Request) {
	st := s.Stats()
	s.mu.Lock()
	all := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		all = append(all, ss)
	}
	s.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].created.Before(all[j].created) })
	var d decision
	stream := streamStatus{
		BitrateKbps: round1(st.BitrateKbps),
		FPS:         round1(st.FPS),
		AccessUnits: st.AccessUnits,
		Keyframes:   st.Keyframes,
		Drops:       st.Drops,
	}
	if s.adapt != nil {
		d = s.adapt.state()
		stream.TargetKbps, stream.TargetFPS, stream.Adaptation = &d.kbps, &d.fps, d.why
	}
	sessions := make([]sessionStatus, 0, len(all))
	for _, ss := range all {
		sessions = append(sessions, ss.status(&d))
	}
	rep := map[string]any{
		"viewers":  st.Viewers,
		"sessions": sessions,
		"stream":   stream,
		"ice":      s.ice.status(),
	}
	for name, r := range s.opts.Reports {
		rep[name] = r.Status()
	}
	writeJSON(w, http.StatusOK, rep)
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }
