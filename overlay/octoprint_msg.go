package overlay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The OctoPrint messages pipcam reads: the push socket's "current",
// "history", "event" and "reauthRequired" messages, and the REST replies
// of GET /api/job and GET /api/printer. Fields OctoPrint sends as null are
// nil pointers here, so unknown stays unknown.

// pushMessage is one push message: {"<type>": payload}. Types pipcam does
// not use (connected, timelapse, plugin, ...) are skipped.
type pushMessage struct {
	Current        *currentPayload `json:"current"`
	History        *currentPayload `json:"history"`
	Event          *eventPayload   `json:"event"`
	ReauthRequired *struct {
		Reason string `json:"reason"`
	} `json:"reauthRequired"`
}

// currentPayload is a "current" or "history" message.
type currentPayload struct {
	State    *stateInfo     `json:"state"`
	Job      *jobInfo       `json:"job"`
	Progress *progressInfo  `json:"progress"`
	CurrentZ *float64       `json:"currentZ"`
	Temps    []tempSnapshot `json:"temps"` // points since the last message; often none
}

type stateInfo struct {
	Text  string     `json:"text"`
	Flags stateFlags `json:"flags"`
	Error string     `json:"error"`
}

type stateFlags struct {
	Operational   bool `json:"operational"`
	Printing      bool `json:"printing"`
	Cancelling    bool `json:"cancelling"`
	Pausing       bool `json:"pausing"`
	Resuming      bool `json:"resuming"`
	Finishing     bool `json:"finishing"`
	ClosedOrError bool `json:"closedOrError"`
	Error         bool `json:"error"`
	Paused        bool `json:"paused"`
}

type jobInfo struct {
	File struct {
		Name    string `json:"name"`
		Display string `json:"display"`
	} `json:"file"`
}

type progressInfo struct {
	Completion    *float64 `json:"completion"`
	PrintTime     *float64 `json:"printTime"`
	PrintTimeLeft *float64 `json:"printTimeLeft"`
}

// heater is {"actual": 210.0, "target": 210.0}.
type heater struct {
	Actual *float64 `json:"actual"`
	Target *float64 `json:"target"`
}

// tempSnapshot is one temperature point: heaters by OctoPrint's name
// (tool0, tool1, bed, chamber) besides "time".
type tempSnapshot map[string]json.RawMessage

type eventPayload struct {
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

// jobReply is GET /api/job.
type jobReply struct {
	Job      *jobInfo      `json:"job"`
	Progress *progressInfo `json:"progress"`
	State    string        `json:"state"`
	Error    string        `json:"error"`
}

// printerReply is GET /api/printer (200 only when the printer is
// connected; 409 otherwise).
type printerReply struct {
	Temperature tempSnapshot `json:"temperature"`
	State       *stateInfo   `json:"state"`
}

// loginReply is POST /api/login's answer: what the socket's auth needs.
type loginReply struct {
	Name    string `json:"name"`
	Session string `json:"session"`
}

var errSockJSClose = errors.New("server closed the push socket")

// splitFrame returns the JSON messages in one websocket text frame.
// OctoPrint's raw socket (/sockjs/websocket) sends one bare JSON object
// per frame; a SockJS session socket frames them: "o" (open), "h"
// (heartbeat), a["<json>",...] (a batch), c[code,"reason"] (close).
func splitFrame(data []byte) ([][]byte, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, nil
	}
	switch data[0] {
	case '{':
		return [][]byte{data}, nil
	case 'o', 'h':
		if len(data) != 1 {
			return nil, fmt.Errorf("bad SockJS frame %q", clip(data))
		}
		return nil, nil
	case 'a':
		var batch []string
		if err := json.Unmarshal(data[1:], &batch); err != nil {
			return nil, fmt.Errorf("bad SockJS message batch: %w", err)
		}
		out := make([][]byte, len(batch))
		for i, m := range batch {
			out[i] = []byte(m)
		}
		return out, nil
	case 'c':
		return nil, errSockJSClose
	}
	return nil, fmt.Errorf("not a push message: starts with %q", clip(data))
}

// clip shortens data for an error message (never a secret: these are
// frames from the socket, which carry no key).
func clip(data []byte) string {
	if len(data) > 16 {
		return string(data[:16]) + "…"
	}
	return string(data)
}

// decode reads one JSON message or reply; what names it in the error,
// which never quotes the data (/api/login's reply holds the API key).
func decode[T any](what string, data []byte) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return v, nil
}

// parsePush decodes one message of a frame.
func parsePush(data []byte) (*pushMessage, error) { return decode[pushMessage]("push message", data) }

func parsePrinter(data []byte) (*printerReply, error) {
	return decode[printerReply]("/api/printer", data)
}

func parseJob(data []byte) (*jobReply, error) {
	r, err := decode[jobReply]("/api/job", data)
	if err == nil && r.State == "" {
		err = errors.New("/api/job: no state in the reply")
	}
	return r, err
}

func parseLogin(data []byte) (*loginReply, error) {
	r, err := decode[loginReply]("/api/login", data)
	if err == nil && (r.Name == "" || r.Session == "" || strings.Contains(r.Name, ":")) {
		err = errors.New("/api/login: no user session in the reply")
	}
	return r, err
}

var toolKey = regexp.MustCompile(`^tool(\d{1,2})$`)

// temps turns a snapshot into Temps: tools by number, then bed, then
// chamber. A single tool is "E", several are E0, E1, ...; heaters that
// report no temperature are left out.
func (s tempSnapshot) temps() ([]Temp, error) {
	type tool struct {
		n int
		h heater
	}
	var tools []tool
	var rest []Temp
	for key, raw := range s {
		var h heater
		m := toolKey.FindStringSubmatch(key)
		if m == nil && key != "bed" && key != "chamber" {
			continue // "time", "history", a plugin's extra sensor
		}
		if err := json.Unmarshal(raw, &h); err != nil {
			return nil, fmt.Errorf("temperature %s: %w", key, err)
		}
		switch {
		case h.Actual == nil:
		case m != nil:
			n, _ := strconv.Atoi(m[1])
			tools = append(tools, tool{n, h})
		case key == "bed":
			rest = append([]Temp{{Name: "B", Actual: h.Actual, Target: h.Target}}, rest...)
		default:
			rest = append(rest, Temp{Name: "C", Actual: h.Actual, Target: h.Target})
		}
	}
	sort.Slice(tools, func(i, j int) bool { return tools[i].n < tools[j].n })
	out := make([]Temp, 0, len(tools)+len(rest))
	for _, t := range tools {
		name := "E"
		if len(tools) > 1 {
			name = "E" + strconv.Itoa(t.n)
		}
		out = append(out, Temp{Name: name, Actual: t.h.Actual, Target: t.h.Target})
	}
	return append(out, rest...), nil
}

// seconds turns OctoPrint's seconds into a duration; nil stays nil, and
// absurd values (negative, over a year) are unknown.
func seconds(s *float64) *time.Duration {
	if s == nil || *s < 0 || *s > 366*24*3600 {
		return nil
	}
	d := time.Duration(*s * float64(time.Second))
	return &d
}

// layerPayload is DisplayLayerProgress's layerChanged event; the plugin
// sends numbers as strings, "-" when unknown.
type layerPayload struct {
	CurrentLayer json.RawMessage `json:"currentLayer"`
	TotalLayer   json.RawMessage `json:"totalLayer"`
}

// looseInt reads 12 or "12"; anything else is unknown.
func looseInt(raw json.RawMessage) *int {
	s := strings.Trim(string(raw), `" `)
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return nil
	}
	return &n
}
