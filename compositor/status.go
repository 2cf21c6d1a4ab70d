package compositor

import (
	"time"

	"github.com/pipcam/pipcam/configs"
)

// Status is the graph's part of GET /api/status.
type Status struct {
	Encoder            string `json:"encoder"`
	BitrateKbps        int    `json:"configured_bitrate_kbps"`
	Width              int    `json:"width"`
	Height             int    `json:"height"`
	Framerate          int    `json:"framerate"`
	AccessUnits        uint64 `json:"access_units"`
	Keyframes          uint64 `json:"keyframes"`
	KeyframeRequests   uint64 `json:"keyframe_requests"`
	KeyframesForced    uint64 `json:"keyframes_forced"`
	LastPictureAgoMs   int64  `json:"last_picture_ago_ms"`
	FLVPort            int    `json:"flv_port"`
	FLVClients         int    `json:"flv_clients"`
	Subscribers        int    `json:"subscribers"`
	DroppedToSubscribe uint64 `json:"dropped_to_subscribers"`
	// LostBeforePull counts pictures the encoder made that Go never took
	// (a full ring: the pull loop stalled for 64 pictures).
	LostBeforePull uint64         `json:"lost_before_pull"`
	Overlay        string         `json:"overlay_text"`
	Layout         configs.Layout `json:"layout"`
	Sources        []SourceStatus `json:"sources"`
	UptimeSeconds  float64        `json:"uptime_seconds"`
	// Playing is false while a dead pipeline is being rebuilt.
	Playing  bool `json:"playing"`
	Rebuilds int  `json:"rebuilds"`
	// Errors are the most recent errors GStreamer reported, oldest first;
	// ErrorCount counts all of them since start.
	Errors     []GraphError `json:"errors"`
	ErrorCount uint64       `json:"error_count"`
	// GstBufferGrowth is how many more GstBuffers are alive than at the
	// first status read, as GStreamer's leaks tracer counts them; present
	// only when that tracer runs (GST_TRACERS=leaks; make bench's soak).
	GstBufferGrowth *int `json:"gst_buffer_growth,omitempty"`
}

// SourceStatus is one camera's state.
type SourceStatus struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Device string `json:"device,omitempty"`
	URL    string `json:"url,omitempty"` // never with credentials (config refuses them)
	// State is starting, playing, reconnecting (lost after playing) or
	// failed (not played since start); pipcam retries the last two.
	State string `json:"state"`
	// Placeholder is true while the camera's card shows in its slot.
	Placeholder bool `json:"placeholder"`
	// Error is the last error, with GStreamer's debug text.
	Error     string     `json:"error,omitempty"`
	ErrorTime *time.Time `json:"error_time,omitempty"`
	// Reconnects counts the attempts made after the first.
	Reconnects int        `json:"reconnects"`
	FPS        float64    `json:"fps"`
	LastFrame  *time.Time `json:"last_frame,omitempty"`
	// Mode is the V4L2 mode chosen from what the camera offers.
	Mode string `json:"mode,omitempty"`
}

// Status reports the graph's figures now.
func (g *Graph) Status() any {
	req, sent := g.keyframes.stats()
	subs, dropped := g.fanout.stats()
	flvPort, flvClients := g.FLVPort(), g.FLVClients()
	var growth *int
	if n, ok := BufferGrowth(); ok {
		growth = &n
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	st := Status{
		Encoder:            string(g.plan.Encoder),
		BitrateKbps:        g.bitrateKbps,
		Width:              g.cfg.Output.Width,
		Height:             g.cfg.Output.Height,
		Framerate:          g.cfg.Output.Framerate,
		AccessUnits:        g.aus.Load(),
		Keyframes:          g.keyAUs.Load(),
		KeyframeRequests:   req,
		KeyframesForced:    sent,
		FLVPort:            flvPort,
		FLVClients:         flvClients,
		Subscribers:        subs,
		DroppedToSubscribe: dropped,
		Overlay:            g.text,
		Layout:             g.layout,
		UptimeSeconds:      time.Since(g.started).Seconds(),
		Playing:            g.cur != nil,
		Rebuilds:           g.rebuilds,
		Errors:             append([]GraphError{}, g.errs...),
		ErrorCount:         g.errCount,
		GstBufferGrowth:    growth,
	}
	st.LostBeforePull = g.ringLost.Load()
	if g.cur != nil && g.cur.auQueue != nil {
		st.LostBeforePull += g.cur.auQueue.dropped()
	}
	if last := g.lastAUns.Load(); last > 0 {
		st.LastPictureAgoMs = time.Since(time.Unix(0, last)).Milliseconds()
	}
	for _, c := range g.cams {
		st.Sources = append(st.Sources, c.status())
	}
	return st
}

// LastPicture is when the encoder last produced a picture (zero before the
// first): the systemd watchdog pings only while pictures flow.
func (g *Graph) LastPicture() time.Time {
	if ns := g.lastAUns.Load(); ns > 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}
