package overlay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/pipcam/pipcam/configs"
)

// maxPushMessage bounds one socket message: OctoPrint's "history" carries
// up to 30 minutes of temperature points.
const maxPushMessage = 8 << 20

// errNoSocket: the server answered the websocket handshake with a plain
// HTTP reply (a proxy that does not pass websockets, an old server).
var errNoSocket = errors.New("push socket refused")

// errSocketClosed is the cause of a socket closed by its session.
var errSocketClosed = errors.New("socket closed")

// socket is an open push socket: a reader goroutine hands its messages
// over, and a pinger ends it when the server stops answering (a hung
// server keeps the TCP connection open and says nothing). close ends both.
type socket struct {
	conn   *websocket.Conn
	msgs   chan []byte
	parent context.Context
	ctx    context.Context // ends with the socket; its cause says why
	stop   context.CancelCauseFunc
	timing sourceTiming
	wg     sync.WaitGroup
}

// openSocket dials rawURL; scrubbed (a one-shot token in the URL) never
// appears in an error.
func (f *follower) openSocket(ctx context.Context, rawURL string, scrubbed ...string) (*socket, error) {
	dctx, cancel := context.WithTimeout(ctx, f.timing.timeout)
	conn, resp, err := websocket.Dial(dctx, rawURL, &websocket.DialOptions{HTTPClient: f.client.http})
	cancel()
	if err != nil {
		for _, s := range scrubbed {
			err = errors.New(scrub(err.Error(), configs.Secret(s)))
		}
		return nil, dialError(resp, err)
	}
	conn.SetReadLimit(maxPushMessage)
	s := &socket{conn: conn, msgs: make(chan []byte), parent: ctx, timing: f.timing}
	s.ctx, s.stop = context.WithCancelCause(ctx)
	s.wg.Add(2)
	go s.read()
	go s.keepAlive()
	return s, nil
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

func (s *socket) read() {
	defer s.wg.Done()
	for {
		_, data, err := s.conn.Read(s.ctx)
		if err != nil {
			s.stop(offline("push socket", err)) // a ping's verdict, if first, stays
			return
		}
		select {
		case s.msgs <- data:
		case <-s.ctx.Done():
			return
		}
	}
}

// keepAlive pings every pingInterval and ends the socket when a pong does
// not come within pingTimeout.
func (s *socket) keepAlive() {
	defer s.wg.Done()
	for sleep(s.ctx, s.timing.pingInterval) {
		pctx, cancel := context.WithTimeout(s.ctx, s.timing.pingTimeout)
		err := s.conn.Ping(pctx)
		cancel()
		if err != nil {
			if s.ctx.Err() == nil {
				s.stop(offline("push socket", fmt.Errorf("no answer to a ping within %s", s.timing.pingTimeout)))
			}
			return
		}
	}
}

// next returns the next message; ok is false when wait fires first (nil
// waits for ever). err says why the socket ended.
func (s *socket) next(wait <-chan time.Time) (data []byte, ok bool, err error) {
	select {
	case data := <-s.msgs:
		return data, true, nil
	case <-wait:
		return nil, false, nil
	case <-s.ctx.Done():
		if err := s.parent.Err(); err != nil {
			return nil, false, err
		}
		return nil, false, context.Cause(s.ctx)
	}
}

// write sends v as one JSON text message.
func (s *socket) write(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return badReply("push socket", err)
	}
	wctx, cancel := context.WithTimeout(s.ctx, s.timing.timeout)
	defer cancel()
	if err := s.conn.Write(wctx, websocket.MessageText, data); err != nil {
		return offline("push socket", err)
	}
	return nil
}

func (s *socket) close() {
	s.stop(errSocketClosed)
	_ = s.conn.CloseNow()
	s.wg.Wait()
}
