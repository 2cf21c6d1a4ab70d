package moonrakertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// Change is print_stats.state as a websocket client of Moonraker saw it
// change, and when the notification arrived.
type Change struct {
	State string
	At    time.Time
}

// WatchPrint subscribes to print_stats.state over Moonraker's websocket,
// as a web client does, and sends each change until ctx ends; then the
// channel is closed. It returns once subscribed: the first Change is the
// state then.
func (s *Server) WatchPrint(ctx context.Context) (<-chan Change, error) {
	u := strings.Replace(s.URL, "http", "ws", 1) + "/websocket"
	conn, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"X-Api-Key": {s.APIKey}}})
	if err != nil {
		return nil, fmt.Errorf("moonraker websocket: %w", err)
	}
	conn.SetReadLimit(1 << 20)
	req := `{"jsonrpc":"2.0","method":"printer.objects.subscribe","params":{"objects":{"print_stats":["state"]}},"id":1}`
	if err := conn.Write(ctx, websocket.MessageText, []byte(req)); err != nil {
		conn.CloseNow()
		return nil, fmt.Errorf("moonraker subscribe: %w", err)
	}
	out := make(chan Change, 16)
	first, err := nextChange(ctx, conn)
	if err != nil {
		conn.CloseNow()
		return nil, fmt.Errorf("moonraker subscribe: %w", err)
	}
	out <- first
	go func() {
		defer close(out)
		defer conn.CloseNow()
		for {
			c, err := nextChange(ctx, conn)
			if err != nil {
				return
			}
			select {
			case out <- c:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// nextChange reads until a message carries print_stats.state: the
// subscribe reply or a notify_status_update with it.
func nextChange(ctx context.Context, conn *websocket.Conn) (Change, error) {
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			return Change{}, err
		}
		at := time.Now()
		var m struct {
			Result *struct {
				Status statusOf `json:"status"`
			} `json:"result"`
			Method string            `json:"method"`
			Params []json.RawMessage `json:"params"`
		}
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		var st statusOf
		switch {
		case m.Result != nil:
			st = m.Result.Status
		case m.Method == "notify_status_update" && len(m.Params) > 0:
			if json.Unmarshal(m.Params[0], &st) != nil {
				continue
			}
		}
		if st.PrintStats.State != "" {
			return Change{State: st.PrintStats.State, At: at}, nil
		}
	}
}

type statusOf struct {
	PrintStats struct {
		State string `json:"state"`
	} `json:"print_stats"`
}
