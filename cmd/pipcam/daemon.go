package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/pipcam/pipcam/compositor"
	"github.com/pipcam/pipcam/configs"
	"github.com/pipcam/pipcam/overlay"
	"github.com/pipcam/pipcam/signaling"
)

// daemon is one running pipcam: the graph, the web side, and the listener.
type daemon struct {
	graph   *compositor.Graph
	overlay *overlay.Overlay
	outputs *outputs
	server  *signaling.Server
	http    *http.Server
	ln      net.Listener
	done    chan error
}

// startDaemon builds the graph, then the HTTP side, and starts serving. ctx
// bounds the start-up only; the daemon lives until Close.
func startDaemon(ctx context.Context, cfg *configs.Config, log *slog.Logger) (*daemon, error) {
	graph, err := compositor.New(ctx, cfg, log.With("component", "compositor"))
	if err != nil {
		return nil, err
	}
	// The overlay draws the printer's status (or the configured text) into
	// the graph; it degrades to "offline" text, never stopping the stream.
	ov, err := overlay.New(context.Background(), cfg, graph, log.With("component", "overlay"))
	if err != nil {
		graph.Close()
		return nil, err
	}
	// Pushes and print recordings take the same encode (outputs.go).
	outs, err := startOutputs(cfg, graph, ov, log)
	if err != nil {
		ov.Close()
		graph.Close()
		return nil, err
	}
	opts := signaling.Options{
		Source:  graph,
		Layout:  graph,
		Overlay: graph,
		Reports: map[string]signaling.StatusReporter{"graph": graph, "overlay": ov},
		HTTP:    cfg.HTTP,
		WebRTC:  cfg.WebRTC,
		Logger:  log,
		// Viewers waiting for ICE have a cap of their own (a quarter).
		MaxViewers: cfg.WebRTC.MaxViewers,
		Adaptation: signaling.Adaptation{
			Bitrate:   graph,
			Framerate: graph,
			Pinned:    func() bool { return graph.FLVClients() > 0 },
			Kbps:      cfg.Encoder.BitrateKbps,
			FPS:       cfg.Output.Framerate,
			Config:    cfg.Encoder.Adaptive,
		},
	}
	outs.signalingOptions(&opts)
	server, err := signaling.New(context.Background(), opts)
	if err != nil {
		outs.Close()
		ov.Close()
		graph.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		server.Close()
		outs.Close()
		ov.Close()
		graph.Close()
		return nil, fmt.Errorf("listen on http %s: %w", cfg.HTTP.Listen, err)
	}
	d := &daemon{
		graph:   graph,
		overlay: ov,
		outputs: outs,
		server:  server,
		ln:      ln,
		done:    make(chan error, 1),
		http:    server.HTTPServer(),
	}
	go func() {
		err := d.http.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		d.done <- err
	}()
	return d, nil
}

// HTTPAddr is the address the web side listens on.
func (d *daemon) HTTPAddr() string { return d.ln.Addr().String() }

// Close stops serving, ends every viewer, then stops the graph.
func (d *daemon) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	// Shutdown waits for open responses; MJPEG streams end only when the
	// graph closes their subscriptions, so both run together.
	shutdown := make(chan struct{})
	go func() {
		_ = d.http.Shutdown(ctx)
		close(shutdown)
	}()
	d.server.Close()
	// Before the graph: a recording's file is completed from its pictures.
	d.outputs.Close()
	d.overlay.Close()
	d.graph.Close()
	<-shutdown
}

// runDaemon runs until ctx ends or the HTTP server fails, telling systemd
// when it is ready and pinging its watchdog while pictures flow.
func runDaemon(ctx context.Context, cfg *configs.Config, source string, log *slog.Logger) error {
	log.Info("starting pipcam", "version", version, "config", source, "go_procs", runtime.GOMAXPROCS(0), "go_gc_percent", gcPercentNow())
	d, err := startDaemon(ctx, cfg, log)
	if err != nil {
		if ctx.Err() != nil {
			// SIGTERM or Ctrl-C while starting is a normal stop.
			log.Info("stopped during start-up")
			return nil
		}
		return err
	}
	defer d.Close()
	printURLs(log, d.HTTPAddr(), d.graph.FLVPort())
	notifyReady(log)
	stopWatchdog := startWatchdog(ctx, log, d.graph.LastPicture)
	defer stopWatchdog()

	select {
	case <-ctx.Done():
		log.Info("shutting down")
		notifyStopping()
		return nil
	case err := <-d.done:
		return fmt.Errorf("http server: %w", err)
	case err := <-d.graph.Failed():
		// Exit non-zero so that systemd (or any supervisor) restarts us.
		return err
	}
}

// printURLs tells a person what to open.
func printURLs(log *slog.Logger, httpAddr string, flvPort int) {
	host, port, _ := net.SplitHostPort(httpAddr)
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	base := "http://" + net.JoinHostPort(host, port)
	log.Info("serving",
		"dashboard", base+"/",
		"whep", base+"/whep",
		"camera_streamer", base+"/webrtc",
		"snapshot", base+"/?action=snapshot",
		"mjpeg", base+"/?action=stream",
		"status", base+"/api/status",
		"flv", fmt.Sprintf("tcp://%s", net.JoinHostPort(host, fmt.Sprint(flvPort))))
}
