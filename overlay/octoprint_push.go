package overlay

import (
	"context"
	"errors"

	"github.com/pipcam/pipcam/configs"
)

// pushEvents are the events pipcam asks the socket for; the rest (a
// Dwelling per G4, ZChange per layer) would only cost the Pi.
var pushEvents = []string{
	"PrinterStateChanged", "FileSelected", "PrintStarted", "PrintDone", "PrintCancelled",
	"PrintFailed", "Error", "DisplayLayerProgress_layerChanged",
}

// pushSession logs in passively with the API key, opens the raw SockJS
// websocket, authenticates it with the session, subscribes to the state
// and a few events, and reads until it fails.
func (s *octoPrint) pushSession(ctx context.Context, key configs.Secret) (bool, error) {
	login, err := s.client.login(ctx, key)
	if err != nil {
		return false, err
	}
	sock, err := s.openSocket(ctx, s.client.endpoint("/sockjs/websocket"))
	if err != nil {
		return false, err
	}
	defer sock.close()
	if err := s.subscribe(sock, login); err != nil {
		return false, err
	}
	up := false
	for {
		data, _, err := sock.next(nil)
		if err != nil {
			return up, err
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

// subscribe sends the auth and subscribe messages.
func (s *octoPrint) subscribe(sock *socket, login *loginReply) error {
	msgs := []any{
		map[string]string{"auth": login.Name + ":" + login.Session},
		map[string]any{"subscribe": map[string]any{
			"state":   map[string]bool{"logs": false, "messages": false},
			"events":  pushEvents,
			"plugins": false,
		}},
	}
	for _, m := range msgs {
		if err := sock.write(m); err != nil {
			return err
		}
	}
	return nil
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
