package signaling

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Timeouts of the HTTP server. Signaling requests are small and quick (the
// slowest waits GatherTimeout for candidates), so short timeouts cost real
// clients nothing and free the connections of clients that dribble or
// stall (slowloris).
type Timeouts struct {
	ReadHeader time.Duration // 0 → 5 s
	Read       time.Duration // whole request with body; 0 → 10 s
	Write      time.Duration // from the end of the headers to the end of the reply; 0 → 15 s
	Idle       time.Duration // keep-alive between requests; 0 → 60 s
}

func (t Timeouts) withDefaults() Timeouts {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&t.ReadHeader, 5*time.Second)
	def(&t.Read, 10*time.Second)
	def(&t.Write, 15*time.Second)
	def(&t.Idle, 60*time.Second)
	return t
}

// maxHeaderBytes: signaling requests carry a few short headers.
const maxHeaderBytes = 32 << 10

// HTTPServer returns an http.Server that serves Handler with the
// timeouts of Options.Timeouts. Long-lived responses (MJPEG) lift them per
// request with KeepStreaming.
func (s *Server) HTTPServer() *http.Server {
	t := s.opts.Timeouts
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}

// KeepStreaming lifts the server's read and write deadlines for this
// response, for a stream that lasts as long as the client watches (MJPEG).
// The read deadline goes too: when it passes, net/http cancels the
// request's context.
func KeepStreaming(w http.ResponseWriter) error {
	rc := http.NewResponseController(w)
	if err := rc.SetWriteDeadline(time.Time{}); err != nil {
		return fmt.Errorf("lift write deadline: %w", err)
	}
	if err := rc.SetReadDeadline(time.Time{}); err != nil {
		return fmt.Errorf("lift read deadline: %w", err)
	}
	return nil
}
