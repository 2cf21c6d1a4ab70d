package overlay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/coder/websocket"
	"github.com/pipcam/pipcam/configs"
)

// maxPushMessage bounds one socket message: "history" carries up to 30
// minutes of temperature points.
const maxPushMessage = 8 << 20

// errNoSocket: the server answered the websocket handshake with a plain
// HTTP reply (a proxy that does not pass websockets, an old OctoPrint).
var errNoSocket = errors.New("push socket refused")

// pushEvents are the events pipcam asks the socket for; the rest (a
// Dwelling per G4, ZChange per layer) would only cost the Pi.
var pushEvents = []string{
	"PrinterStateChanged", "FileSelected", "PrintStarted", "PrintDone", "PrintCancelled",
	"PrintFailed", "Error", "DisplayLayerProgress_layerChanged",
}

// pushSession logs in passively with the API key, opens the raw SockJS
// websocket, authenticates it with the session, subscribes to the state
// and a few events, and reads until it fails. A concurrent ping finds a
// server that stopped answering.
func (s *octoPrint) pushSession(ctx context.Context, key configs.Secret) (bool, error) {
	login, err := s.client.login(ctx, key)
	if err != nil {
		return false, err
	}
	dctx, cancel := context.WithTimeout(ctx, s.timing.timeout)
	conn, resp, err := websocket.Dial(dctx, s.client.endpoint("/sockjs/websocket"), &websocket.DialOptions{HTTPClient: s.client.http})
	cancel()
	if err != nil {
		return false, dialError(resp, err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(maxPushMessage)

	sctx, stop := context.WithCancelCause(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop(nil)
	if err := s.subscribe(sctx, conn, login); err != nil {
		return false, err
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.keepAlive(sctx, conn, stop)
	}()
	up := false
	for {
		_, data, err := conn.Read(sctx)
		if err != nil {
			if cause := context.Cause(sctx); ctx.Err() == nil && cause != nil && !errors.Is(cause, context.Canceled) {
				err = cause
			}
			return up, offline("push socket", err)
		}
		changed, err := s.handleFrame(data)
		if err != nil {
			return up, err
		}
		if changed {
			up = true
			s.publish(string(configs.TransportPush))
		}
	}
}

// dialError sorts a failed handshake: no reply at all is offline, a plain
// HTTP reply means the socket cannot be used here.
func dialError(resp *http.Response, err error) error {
	if resp == nil {
		return offline("push socket", err)
	}
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized, code == http.StatusForbidden:
		return unauthorized("push socket", fmt.Errorf("HTTP %d", code))
	case code == http.StatusBadGateway, code == http.StatusServiceUnavailable, code == http.StatusGatewayTimeout:
		return offline("push socket", fmt.Errorf("HTTP %d", code))
	default:
		return badReply("push socket", fmt.Errorf("%w: HTTP %d", errNoSocket, code))
	}
}

// subscribe sends the auth and subscribe messages.
func (s *octoPrint) subscribe(ctx context.Context, conn *websocket.Conn, login *loginReply) error {
	msgs := []any{
		map[string]string{"auth": login.Name + ":" + login.Session},
		map[string]any{"subscribe": map[string]any{
			"state":   map[string]bool{"logs": false, "messages": false},
			"events":  pushEvents,
			"plugins": false,
		}},
	}
	for _, m := range msgs {
		data, err := json.Marshal(m)
		if err != nil {
			return badReply("push socket", err)
		}
		wctx, cancel := context.WithTimeout(ctx, s.timing.timeout)
		err = conn.Write(wctx, websocket.MessageText, data)
		cancel()
		if err != nil {
			return offline("push socket", err)
		}
	}
	return nil
}

// keepAlive pings every pingInterval and ends the session (stop) when a
// pong does not come within pingTimeout.
func (s *octoPrint) keepAlive(ctx context.Context, conn *websocket.Conn, stop context.CancelCauseFunc) {
	for sleep(ctx, s.timing.pingInterval) {
		pctx, cancel := context.WithTimeout(ctx, s.timing.pingTimeout)
		err := conn.Ping(pctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				stop(fmt.Errorf("no answer to a ping within %s", s.timing.pingTimeout))
			}
			return
		}
	}
}

// handleFrame merges one frame's messages into the model; changed says
// whether there is anything new to show.
func (s *octoPrint) handleFrame(data []byte) (bool, error) {
	msgs, err := splitFrame(data)
	if errors.Is(err, errSockJSClose) {
		return false, offline("push socket", err)
	}
	if err != nil {
		return false, badReply("push socket", err)
	}
	changed := false
	for _, raw := range msgs {
		m, err := parsePush(raw)
		if err != nil {
			return changed, badReply("push socket", err)
		}
		switch {
		case m.ReauthRequired != nil:
			return changed, errReauth
		case m.History != nil:
			err = s.model.applyCurrent(m.History, true)
		case m.Current != nil:
			err = s.model.applyCurrent(m.Current, false)
		case m.Event != nil:
			err = s.model.applyEvent(m.Event)
		default:
			continue // connected, timelapse, plugin messages
		}
		if err != nil {
			return changed, badReply("push socket", err)
		}
		changed = true
	}
	return changed, nil
}
