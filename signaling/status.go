package signaling

import (
	"net/http"
	"sort"
	"time"
)

type statusReply struct {
	Viewers  int             `json:"viewers"`
	Sessions []sessionStatus `json:"sessions"`
	Stream   streamStatus    `json:"stream"`
	Graph    any             `json:"graph"`
}

type sessionStatus struct {
	ID       string    `json:"id"` // first 8 characters
	Protocol string    `json:"protocol"`
	State    string    `json:"state"`
	Since    time.Time `json:"since"`
}

type streamStatus struct {
	BitrateKbps float64 `json:"bitrate_kbps"`
	FPS         float64 `json:"fps"`
	AccessUnits uint64  `json:"access_units"`
	Keyframes   uint64  `json:"keyframes"`
	Drops       uint64  `json:"viewer_drops"` // AUs dropped for slow viewers, all viewers together
}

// Stats is a snapshot of what the server measures, for cmd/pipcam's
// /metrics or logs.
type Stats struct {
	Sessions    int
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
	n := len(s.sessions)
	s.mu.Unlock()
	return Stats{
		Sessions:    n,
		Viewers:     s.fan.viewers(),
		BitrateKbps: kbps,
		FPS:         fps,
		AccessUnits: s.fan.aus.Load(),
		Keyframes:   s.fan.keyframes.Load(),
		Drops:       s.fan.drops.Load(),
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
	rep := statusReply{
		Viewers:  st.Viewers,
		Sessions: make([]sessionStatus, 0, len(all)),
		Stream: streamStatus{
			BitrateKbps: round1(st.BitrateKbps),
			FPS:         round1(st.FPS),
			AccessUnits: st.AccessUnits,
			Keyframes:   st.Keyframes,
			Drops:       st.Drops,
		},
	}
	for _, ss := range all {
		rep.Sessions = append(rep.Sessions, sessionStatus{
			ID:       shortID(ss.id),
			Protocol: ss.protocol,
			State:    ss.stateString(),
			Since:    ss.created.UTC().Truncate(time.Second),
		})
	}
	if s.opts.Status != nil {
		rep.Graph = s.opts.Status.Status()
	}
	writeJSON(w, http.StatusOK, rep)
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }
