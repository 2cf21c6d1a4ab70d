// Package camtest has real IP cameras for tests, in the way net/http/httptest
// has real servers: an HTTP server that serves a picture as multipart MJPEG
// and as a snapshot, and GStreamer's RTSP server run from Python. Each can
// be stopped and started again on the same port, or made to stall (its
// connections open, no data), which is how pipcam's camera handling is
// shown to work.
package camtest

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"net"
	"net/http"
	"sync"
	"time"
)

// MJPEGServer serves one picture as an MJPEG stream at /stream (frames at
// a fixed rate, as ESP32-CAM and mjpg-streamer do) and as a JPEG at
// /snapshot.jpg.
type MJPEGServer struct {
	addr string
	fps  int

	mu      sync.Mutex
	jpeg    []byte
	stalled chan struct{} // non-nil while stalled; closed on resume
	user    string
	pass    string
	srv     *http.Server
	served  int // pictures sent, all connections
}

// NewMJPEG starts a server on a free loopback port with a w x h picture
// of solid colour c.
func NewMJPEG(w, h, fps int, c color.RGBA) (*MJPEGServer, error) {
	s := &MJPEGServer{fps: fps}
	if err := s.SetPicture(Solid(w, h, c)); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.addr = ln.Addr().String()
	s.serve(ln)
	return s, nil
}

// NewMJPEGOn is NewMJPEG on a given address, not yet started (see Start):
// a camera pipcam is configured with before it exists.
func NewMJPEGOn(addr string, w, h, fps int, c color.RGBA) (*MJPEGServer, error) {
	s := &MJPEGServer{fps: fps, addr: addr}
	return s, s.SetPicture(Solid(w, h, c))
}

// Solid is a w x h picture of one colour.
func Solid(w, h int, c color.RGBA) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, 255
	}
	return img
}

// SetPicture changes what the server sends from the next frame on.
func (s *MJPEGServer) SetPicture(img image.Image) error {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		return err
	}
	s.mu.Lock()
	s.jpeg = b.Bytes()
	s.mu.Unlock()
	return nil
}

// RequireAuth makes every request need HTTP basic auth with these
// credentials.
func (s *MJPEGServer) RequireAuth(user, pass string) {
	s.mu.Lock()
	s.user, s.pass = user, pass
	s.mu.Unlock()
}

// Addr is host:port; StreamURL and SnapshotURL are the two endpoints.
func (s *MJPEGServer) Addr() string        { return s.addr }
func (s *MJPEGServer) StreamURL() string   { return "http://" + s.addr + "/stream" }
func (s *MJPEGServer) SnapshotURL() string { return "http://" + s.addr + "/snapshot.jpg" }

// Served counts the pictures sent so far.
func (s *MJPEGServer) Served() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.served
}

// Stop closes the listener and every connection: to a client, the camera
// is gone (connection refused from now on).
func (s *MJPEGServer) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Start listens again on the same address after Stop (or for the first
// time after NewMJPEGOn).
func (s *MJPEGServer) Start() error {
	var ln net.Listener
	var err error
	// The port was just ours; retry briefly in case the kernel still holds it.
	for deadline := time.Now().Add(5 * time.Second); ; {
		if ln, err = net.Listen("tcp", s.addr); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("listen again on %s: %w", s.addr, err)
	}
	s.serve(ln)
	return nil
}

// Stall keeps every connection (and each new one) open without sending
// anything, until Resume.
func (s *MJPEGServer) Stall() {
	s.mu.Lock()
	if s.stalled == nil {
		s.stalled = make(chan struct{})
	}
	s.mu.Unlock()
}

// Resume ends a stall: streams go on sending.
func (s *MJPEGServer) Resume() {
	s.mu.Lock()
	if s.stalled != nil {
		close(s.stalled)
		s.stalled = nil
	}
	s.mu.Unlock()
}

// Close stops the server for good.
func (s *MJPEGServer) Close() { s.Resume(); s.Stop() }

func (s *MJPEGServer) serve(ln net.Listener) {
	mux := http.NewServeMux()
	mux.HandleFunc("/stream", s.stream)
	mux.HandleFunc("/snapshot.jpg", s.snapshot)
	srv := &http.Server{Handler: s.auth(mux), ReadHeaderTimeout: 5 * time.Second}
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

func (s *MJPEGServer) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		user, pass := s.user, s.pass
		s.mu.Unlock()
		if user != "" {
			u, p, ok := r.BasicAuth()
			if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(user)) != 1 || subtle.ConstantTimeCompare([]byte(p), []byte(pass)) != 1 {
				w.Header().Set("WWW-Authenticate", `Basic realm="camera"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// waitStall blocks while the server is stalled; false when the request
// ended meanwhile.
func (s *MJPEGServer) waitStall(r *http.Request) bool {
	s.mu.Lock()
	ch := s.stalled
	s.mu.Unlock()
	if ch == nil {
		return true
	}
	select {
	case <-ch:
		return true
	case <-r.Context().Done():
		return false
	}
}

// next is the picture to send now, after any stall; false when the
// request ended meanwhile.
func (s *MJPEGServer) next(r *http.Request) ([]byte, bool) {
	if !s.waitStall(r) {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.served++
	return s.jpeg, true
}

const boundary = "123456789000000000000987654321" // what an ESP32-CAM sends

func (s *MJPEGServer) stream(w http.ResponseWriter, r *http.Request) {
	if !s.waitStall(r) {
		return
	}
	w.Header().Set("Content-Type", "multipart/x-mixed-replace;boundary="+boundary)
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	tick := time.NewTicker(time.Second / time.Duration(max(s.fps, 1)))
	defer tick.Stop()
	for {
		pic, ok := s.next(r)
		if !ok {
			return
		}
		if _, err := fmt.Fprintf(w, "--%s\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n", boundary, len(pic)); err != nil {
			return
		}
		if _, err := w.Write(pic); err != nil {
			return
		}
		if _, err := w.Write([]byte("\r\n")); err != nil {
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
	}
}

func (s *MJPEGServer) snapshot(w http.ResponseWriter, r *http.Request) {
	pic, ok := s.next(r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	_, _ = w.Write(pic)
}

// FreeAddr is a loopback address nothing listens on (now).
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// ErrNotInstalled is wrapped when a tool a test server needs is missing.
var ErrNotInstalled = errors.New("not installed: run make deps")
