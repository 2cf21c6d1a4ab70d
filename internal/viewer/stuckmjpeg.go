package viewer

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"
)

// OpenStuckMJPEG opens pipcam's MJPEG stream at path (e.g. "/?action=stream")
// the way a client that hangs does: a tiny TCP receive window, the status
// line read, then nothing ever again, so the server's buffers fill within
// moments. The caller closes the connection.
func OpenStuckMJPEG(addr, path string) (net.Conn, error) {
	d := net.Dialer{Timeout: 10 * time.Second, Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		}); err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, addr); err != nil {
		conn.Close()
		return nil, fmt.Errorf("send MJPEG request: %w", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.Contains(line, " 200 ") {
		conn.Close()
		return nil, fmt.Errorf("MJPEG status line %q: %v", strings.TrimSpace(line), err)
	}
	return conn, nil
}
