package overlay

import (
	"encoding/json"
	"errors"
	"fmt"
)

// The Moonraker messages pipcam reads: JSON-RPC 2.0 over the websocket
// (replies and notify_* notifications) and the same results over HTTP,
// where each reply is {"result": ...}. Klipper's objects arrive whole in
// a subscribe or query result and as diffs in notify_status_update; the
// pointer fields keep "not sent" apart from zero, so a diff merges onto
// what is known (json.Unmarshal into the existing values).

// rpcMessage is one JSON-RPC message: a reply (id, result or error) or a
// notification (method, params).
type rpcMessage struct {
	ID     *int64          `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *rpcError       `json:"error"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

// rpcError is a JSON-RPC error; Moonraker uses HTTP codes (401, 404,
// 503 for "Klippy not connected").
type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *rpcError) Error() string { return fmt.Sprintf("error %d: %s", e.Code, e.Message) }

// parseRPC decodes one websocket message.
func parseRPC(data []byte) (*rpcMessage, error) {
	m, err := decode[rpcMessage]("JSON-RPC message", data)
	if err == nil && m.ID == nil && m.Method == "" {
		err = errors.New("JSON-RPC message: neither a reply nor a notification")
	}
	return m, err
}

// httpResult unwraps an HTTP reply's {"result": ...}.
func httpResult(what string, data []byte) (json.RawMessage, error) {
	r, err := decode[struct {
		Result json.RawMessage `json:"result"`
	}](what, data)
	if err != nil {
		return nil, err
	}
	if len(r.Result) == 0 {
		return nil, fmt.Errorf("%s: no result in the reply", what)
	}
	return r.Result, nil
}

// serverInfo is server.info: whether Moonraker reaches Klippy, and
// Klippy's state (disconnected, startup, ready, shutdown, error).
type serverInfo struct {
	KlippyConnected bool   `json:"klippy_connected"`
	KlippyState     string `json:"klippy_state"`
}

// klipperObjects are the printer objects pipcam subscribes to.
type klipperObjects struct {
	Webhooks      *webhooksObject   `json:"webhooks"`
	PrintStats    *printStatsObject `json:"print_stats"`
	VirtualSDCard *sdcardObject     `json:"virtual_sdcard"`
	DisplayStatus *displayObject    `json:"display_status"`
	Extruder      *heaterObject     `json:"extruder"`
	HeaterBed     *heaterObject     `json:"heater_bed"`
}

// subscribedObjects is the objects argument of printer.objects.subscribe
// and query: only the fields pipcam shows, so Klippy sends no more.
var subscribedObjects = map[string][]string{
	"webhooks":       {"state", "state_message"},
	"print_stats":    {"filename", "total_duration", "print_duration", "state", "message", "info"},
	"virtual_sdcard": {"progress", "file_position"},
	"display_status": {"progress", "message"},
	"extruder":       {"temperature", "target"},
	"heater_bed":     {"temperature", "target"},
}

type webhooksObject struct {
	State        *string `json:"state"`
	StateMessage *string `json:"state_message"`
}

type printStatsObject struct {
	Filename      *string   `json:"filename"`
	TotalDuration *float64  `json:"total_duration"`
	PrintDuration *float64  `json:"print_duration"`
	State         *string   `json:"state"`
	Message       *string   `json:"message"`
	Info          *infoPart `json:"info"`
}

// infoPart is what SET_PRINT_STATS_INFO set; numbers, null when unset.
type infoPart struct {
	TotalLayer   *float64 `json:"total_layer"`
	CurrentLayer *float64 `json:"current_layer"`
}

type sdcardObject struct {
	Progress     *float64 `json:"progress"`
	FilePosition *float64 `json:"file_position"`
}

type displayObject struct {
	Progress *float64 `json:"progress"`
	Message  *string  `json:"message"`
}

type heaterObject struct {
	Temperature *float64 `json:"temperature"`
	Target      *float64 `json:"target"`
}

// objectsResult is the result of printer.objects.subscribe and query.
type objectsResult struct {
	Status json.RawMessage `json:"status"`
}

// fileMetadata is the part of server.files.metadata pipcam uses: the
// slicer's estimate, and where the G-code proper starts and ends (the
// progress counts between them, as Mainsail's does).
type fileMetadata struct {
	EstimatedTime  *float64 `json:"estimated_time"`
	GCodeStartByte *float64 `json:"gcode_start_byte"`
	GCodeEndByte   *float64 `json:"gcode_end_byte"`
}

// statusParams reads notify_status_update's params: [diff, eventtime].
func statusParams(params json.RawMessage) (json.RawMessage, error) {
	var p []json.RawMessage
	if err := json.Unmarshal(params, &p); err != nil {
		return nil, fmt.Errorf("notify_status_update: %w", err)
	}
	if len(p) == 0 {
		return nil, errors.New("notify_status_update: no status")
	}
	return p[0], nil
}
