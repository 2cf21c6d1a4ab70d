package overlay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/pipcam/pipcam/configs"
)

// moonIdentity is how pipcam names itself (server.connection.identify).
var moonIdentity = map[string]any{
	"client_name": "pipcam", "version": "1", "type": "other", "url": "https://github.com/pipcam/pipcam",
}

// pushSession opens Moonraker's websocket (with a one-shot token when
// there is a key: the key itself never goes into a URL), identifies,
// subscribes to the printer objects and follows their updates. Klippy
// restarting ends the subscription: it is made again once Klippy is back,
// and while Klippy cannot answer its state is asked every pollInterval.
func (s *moonraker) pushSession(ctx context.Context, key configs.Secret) (bool, error) {
	endpoint := s.client.endpoint("/websocket")
	var token string
	if key != "" {
		var err error
		if token, err = s.oneshotToken(ctx, key); err != nil {
			return false, err
		}
		endpoint += "?token=" + url.QueryEscape(token)
	}
	sock, err := s.openSocket(ctx, endpoint, token)
	if err != nil {
		return false, err
	}
	defer sock.close()
	rpc := &moonSocket{socket: sock, timeout: s.timing.timeout, note: s.note}
	if err := rpc.call("server.connection.identify", moonIdentity, nil); err != nil {
		return false, err
	}
	for up := false; ; up = true {
		if err := s.refresh(rpc); err != nil {
			return up, err
		}
		s.publish(configs.TransportPush)
		if err := s.listen(rpc); err != nil {
			return true, err
		}
	}
}

// oneshotToken asks for a token that opens the websocket once, within 5 s.
func (s *moonraker) oneshotToken(ctx context.Context, key configs.Secret) (string, error) {
	const what = "GET /access/oneshot_token"
	_, data, err := s.client.call(ctx, http.MethodGet, "/access/oneshot_token", nil, key)
	if err != nil {
		return "", err
	}
	res, err := httpResult(what, data)
	var token string
	if err == nil {
		err = json.Unmarshal(res, &token)
	}
	if err == nil && token == "" {
		err = errors.New("empty token")
	}
	if err != nil {
		return "", badReply(what, err)
	}
	return token, nil
}

// refresh asks Klippy's state and, when Klippy can answer, subscribes
// (again) to the objects, and gets the file's metadata.
func (s *moonraker) refresh(rpc *moonSocket) error {
	s.resubscribe = false
	var info serverInfo
	if err := rpc.call("server.info", nil, &info); err != nil {
		return err
	}
	s.model.setInfo(info)
	if !canAnswer(info) {
		return nil
	}
	var res objectsResult
	err := rpc.call("printer.objects.subscribe", map[string]any{"objects": subscribedObjects}, &res)
	switch {
	case errors.Is(err, errKlippyGone):
		s.model.klippyLost()
		return nil
	case err != nil:
		return err
	}
	if err := s.model.setObjects(res.Status); err != nil {
		return badReply("printer.objects.subscribe", err)
	}
	return s.metadata(rpc)
}

// listen reads notifications until Klippy's state changes (nil: refresh),
// publishing each change. While Klippy cannot answer, it returns after
// pollInterval to ask again.
func (s *moonraker) listen(rpc *moonSocket) error {
	var recheck <-chan time.Time
	if !s.model.subscribed {
		t := time.NewTimer(s.timing.pollInterval)
		defer t.Stop()
		recheck = t.C
	}
	for {
		data, ok, err := rpc.next(recheck)
		if err != nil || !ok {
			return err
		}
		m, err := parseRPC(data)
		if err != nil {
			return badReply("websocket", err)
		}
		if m.ID != nil {
			continue // a late reply
		}
		if err := s.note(m); err != nil {
			return err
		}
		if s.resubscribe {
			return nil
		}
		if err := s.metadata(rpc); err != nil {
			return err
		}
		s.publish(configs.TransportPush)
	}
}

// note takes a notification: object updates merge into the model; Klippy
// stopping, starting or going away marks the socket for a refresh.
func (s *moonraker) note(m *rpcMessage) error {
	switch m.Method {
	case "notify_status_update":
		diff, err := statusParams(m.Params)
		if err == nil && s.model.subscribed {
			err = s.model.mergeObjects(diff)
		}
		if err != nil {
			return badReply("notify_status_update", err)
		}
	case "notify_klippy_disconnected":
		s.model.klippyLost()
		s.resubscribe = true
	case "notify_klippy_ready", "notify_klippy_shutdown":
		s.resubscribe = true
	}
	return nil
}

// metadata gets the current file's metadata once (the slicer's estimate).
func (s *moonraker) metadata(rpc *moonSocket) error {
	if !s.model.wantsMetadata() {
		return nil
	}
	file := s.model.file()
	meta := new(fileMetadata)
	err := rpc.call("server.files.metadata", map[string]string{"filename": file}, meta)
	var re *rpcError
	if errors.As(err, &re) && re.Code == http.StatusNotFound {
		meta, err = nil, nil // not a file Moonraker knows (printed from elsewhere)
	}
	if err != nil {
		return err
	}
	s.model.setMetadata(file, meta)
	return nil
}

// moonSocket is Moonraker's websocket as JSON-RPC: call sends a request
// and waits for its reply, handing notifications that come first to note.
type moonSocket struct {
	*socket
	id      int64
	timeout time.Duration
	note    func(*rpcMessage) error
}

// call makes one request and decodes its result into out (nil: dropped).
func (c *moonSocket) call(method string, params, out any) error {
	c.id++
	req := map[string]any{"jsonrpc": "2.0", "method": method, "id": c.id}
	if params != nil {
		req["params"] = params
	}
	if err := c.write(req); err != nil {
		return err
	}
	deadline := time.NewTimer(c.timeout)
	defer deadline.Stop()
	for {
		data, ok, err := c.next(deadline.C)
		switch {
		case err != nil:
			return err
		case !ok:
			return offline(method, fmt.Errorf("no reply within %s", c.timeout))
		}
		m, err := parseRPC(data)
		if err != nil {
			return badReply(method, err)
		}
		if m.ID == nil {
			if err := c.note(m); err != nil {
				return err
			}
			continue
		}
		if *m.ID != c.id {
			continue // a late reply to an earlier call
		}
		if m.Error != nil {
			return rpcFailure(method, m.Error)
		}
		if out != nil {
			if err := json.Unmarshal(m.Result, out); err != nil {
				return badReply(method, err)
			}
		}
		return nil
	}
}

// rpcFailure sorts a JSON-RPC error as the HTTP codes it carries.
// Moonraker refuses an unauthenticated socket's identify with -32602
// "Unauthorized".
func rpcFailure(method string, e *rpcError) error {
	switch {
	case e.Code == http.StatusUnauthorized, e.Code == http.StatusForbidden, e.Message == "Unauthorized":
		return unauthorized(method, e)
	case e.Code == http.StatusServiceUnavailable:
		return fmt.Errorf("%s: %w: %w", method, errKlippyGone, e)
	}
	return badReply(method, e)
}
