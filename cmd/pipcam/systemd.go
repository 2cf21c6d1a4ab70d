package main

import (
	"context"
	"log/slog"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
)

// notifyReady tells systemd (Type=notify) that pipcam is serving.
func notifyReady(log *slog.Logger) {
	if ok, err := sd.SdNotify(false, sd.SdNotifyReady); err != nil {
		log.Warn("systemd notify", "error", err)
	} else if ok {
		log.Debug("told systemd we are ready")
	}
}

func notifyStopping() { _, _ = sd.SdNotify(false, sd.SdNotifyStopping) }

// startWatchdog pings systemd's watchdog at half its interval, but only while
// the encoder keeps producing pictures: a wedged graph stops the pings and
// systemd restarts pipcam. It returns a function that stops it.
func startWatchdog(ctx context.Context, log *slog.Logger, lastPicture func() time.Time) func() {
	interval, err := sd.SdWatchdogEnabled(false)
	if err != nil || interval <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	stale := max(interval, 5*time.Second)
	go func() {
		t := time.NewTicker(interval / 2)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if time.Since(lastPicture()) > stale {
					log.Error("no picture from the encoder: withholding the watchdog ping", "stale_for", time.Since(lastPicture()))
					continue
				}
				_, _ = sd.SdNotify(false, sd.SdNotifyWatchdog)
			}
		}
	}()
	return cancel
}
