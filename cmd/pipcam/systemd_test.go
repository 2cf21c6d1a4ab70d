package main

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// notifySocket stands in for systemd: a unixgram socket at NOTIFY_SOCKET.
func notifySocket(t *testing.T) *net.UnixConn {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", "200000") // 200 ms: pings every 100 ms
	t.Setenv("WATCHDOG_PID", "")
	return conn
}

// next reads one notification, or "" if none comes within wait.
func next(conn *net.UnixConn, wait time.Duration) string {
	buf := make([]byte, 256)
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	n, err := conn.Read(buf)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(buf[:n]))
}

func TestSystemdReadyAndWatchdog(t *testing.T) {
	conn := notifySocket(t)
	notifyReady(quietLogger())
	if msg := next(conn, 5*time.Second); msg != "READY=1" {
		t.Fatalf("got %q, want READY=1", msg)
	}

	// Pictures flowing: pings come.
	ctx, cancel := context.WithCancel(context.Background())
	stop := startWatchdog(ctx, quietLogger(), time.Now)
	for i := 0; i < 3; i++ {
		if msg := next(conn, 5*time.Second); msg != "WATCHDOG=1" {
			t.Fatalf("ping %d: got %q, want WATCHDOG=1", i, msg)
		}
	}
	stop()
	cancel()
	for next(conn, 300*time.Millisecond) != "" { // drain pings sent before stop
	}

	// No picture ever: the pings are withheld so systemd restarts pipcam.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	stop = startWatchdog(ctx, quietLogger(), func() time.Time { return time.Time{} })
	defer stop()
	if msg := next(conn, time.Second); msg != "" {
		t.Fatalf("got %q from a watchdog whose graph shows no pictures", msg)
	}
}
