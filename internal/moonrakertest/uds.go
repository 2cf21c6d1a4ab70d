package moonrakertest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"time"
)

// udsClient speaks the JSON protocol of Klippy's API socket and of
// Moonraker's unix socket: one JSON object per message, each ended by
// 0x03. One request at a time; replies are matched by id, anything else
// (notifications) is skipped.
type udsClient struct {
	conn net.Conn
	rd   *bufio.Reader
	id   int
}

func dialUDS(ctx context.Context, path string) (*udsClient, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, err
	}
	return &udsClient{conn: conn, rd: bufio.NewReader(conn)}, nil
}

// call sends method with params and decodes the reply's result into out.
// jsonrpc adds Moonraker's "jsonrpc": "2.0" (Klippy wants none).
func (c *udsClient) call(method string, params any, jsonrpc bool, timeout time.Duration, out any) error {
	c.id++
	req := map[string]any{"id": c.id, "method": method}
	if params != nil {
		req["params"] = params
	}
	if jsonrpc {
		req["jsonrpc"] = "2.0"
	}
	data, err := json.Marshal(req)
	if err != nil {
		return err
	}
	_ = c.conn.SetDeadline(time.Now().Add(timeout))
	if _, err := c.conn.Write(append(data, 0x03)); err != nil {
		return err
	}
	for {
		msg, err := c.rd.ReadBytes(0x03)
		if err != nil {
			return err
		}
		var reply struct {
			ID     *int            `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  json.RawMessage `json:"error"`
		}
		if err := json.Unmarshal(msg[:len(msg)-1], &reply); err != nil {
			return fmt.Errorf("%s: %w", method, err)
		}
		if reply.ID == nil || *reply.ID != c.id {
			continue
		}
		if len(reply.Error) > 0 && string(reply.Error) != "null" {
			return fmt.Errorf("%s: %s", method, reply.Error)
		}
		return json.Unmarshal(reply.Result, out)
	}
}

func (c *udsClient) close() { _ = c.conn.Close() }
