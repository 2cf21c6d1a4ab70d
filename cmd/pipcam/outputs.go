package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/pipcam/pipcam/compositor"
	"github.com/pipcam/pipcam/configs"
	"github.com/pipcam/pipcam/overlay"
	"github.com/pipcam/pipcam/recordings"
	"github.com/pipcam/pipcam/signaling"
)

// outputs are what the encode goes to besides viewers: the pushes to
// RTMP servers and the print recordings, and what follows the printer's
// prints for them.
type outputs struct {
	pusher   *compositor.Pusher
	recorder *compositor.Recorder // nil: recording is off
	store    *recordings.Store    // nil: recording is off
	follower *printFollower       // nil: nothing follows prints
	log      *slog.Logger
}

// startOutputs starts the pushes and, when recording is on, follows the
// overlay's print events to record each print.
func startOutputs(cfg *configs.Config, graph *compositor.Graph, ov *overlay.Overlay, log *slog.Logger) (*outputs, error) {
	pusher, err := compositor.NewPusher(graph, cfg.Push, log.With("component", "push"))
	if err != nil {
		return nil, err
	}
	o := &outputs{pusher: pusher, log: log}
	if cfg.Recording.Enabled {
		if o.store, err = recordings.New(cfg.Recording); err == nil {
			o.recorder, err = compositor.NewRecorder(graph, log.With("component", "recording"))
		}
		if err != nil {
			pusher.Close()
			return nil, err
		}
	}
	if o.recorder != nil || followsPrints(cfg.Push) {
		statuses, cancel := ov.Subscribe()
		o.follower = followPrints(statuses, cancel, o.recorder, o.store, pusher, log.With("component", "prints"))
	}
	return o, nil
}

func followsPrints(p configs.Push) bool {
	for _, d := range p.Destinations {
		if d.Start == configs.PushPrinting {
			return true
		}
	}
	return false
}

// signalingOptions hands the outputs to the HTTP side (an interface
// holding a nil pointer is not nil: recording off is left unset).
func (o *outputs) signalingOptions(opts *signaling.Options) {
	opts.Push = o.pusher
	opts.Reports["push"] = o.pusher
	if o.recorder != nil {
		opts.Recordings = o.store
		opts.Reports["recording"] = o.recorder
	}
}

// Close stops following prints, ends the recording under way (its file
// complete) and the pushes.
func (o *outputs) Close() {
	if o.follower != nil {
		o.follower.close()
	}
	if o.recorder != nil {
		o.recorder.Close()
		pruned(o.log, nil, o.store.End())
	}
	o.pusher.Close()
}

// printFollower starts and stops what follows the printer's prints.
type printFollower struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// pruneEvery applies the recordings' limits during a long print: the
// file being written grows.
const pruneEvery = time.Minute

// followPrints acts on each new print event of the overlay's statuses:
// a print that started is recorded (into a file the store names) and
// starts the pushes that follow prints; one that ended (done, cancelled,
// failed, lost) stops both. rec and store are nil when recording is off.
func followPrints(statuses <-chan overlay.Status, unsubscribe func(), rec *compositor.Recorder, store *recordings.Store, push *compositor.Pusher, log *slog.Logger) *printFollower {
	ctx, cancel := context.WithCancel(context.Background())
	f := &printFollower{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(f.done)
		defer unsubscribe()
		prune := time.NewTicker(pruneEvery)
		defer prune.Stop()
		var seq uint64
		for {
			select {
			case <-ctx.Done():
				return
			case <-prune.C:
				if store != nil {
					removed, err := store.Prune()
					pruned(log, removed, err)
				}
			case st, ok := <-statuses:
				if !ok {
					return // the overlay closed
				}
				ev := st.Event
				if ev.Seq == 0 || ev.Seq == seq {
					continue
				}
				seq = ev.Seq
				switch ev.Kind {
				case overlay.EventStarted:
					// The first status may carry an old start: act only
					// while the print runs.
					if st.Active() {
						startPrint(ev, rec, store, push, log)
					}
				case overlay.EventDone, overlay.EventCancelled, overlay.EventFailed, overlay.EventLost:
					endPrint(ev, rec, store, push, log)
				}
			}
		}
	}()
	return f
}

func (f *printFollower) close() {
	f.cancel()
	<-f.done
}

func startPrint(ev overlay.Event, rec *compositor.Recorder, store *recordings.Store, push *compositor.Pusher, log *slog.Logger) {
	log.Info("print started", "file", ev.File)
	push.Printing(true)
	if rec == nil {
		return
	}
	path, err := store.Begin(ev.File, ev.At)
	if err == nil {
		err = rec.Start(path)
	}
	if err != nil {
		log.Error("cannot record the print", "error", err)
	}
}

func endPrint(ev overlay.Event, rec *compositor.Recorder, store *recordings.Store, push *compositor.Pusher, log *slog.Logger) {
	log.Info("print ended", "file", ev.File, "how", ev.Kind)
	push.Printing(false)
	if rec == nil {
		return
	}
	// A recording that stopped early (a full disk) has said so already.
	_ = rec.Stop()
	pruned(log, nil, store.End())
}

func pruned(log *slog.Logger, removed []string, err error) {
	if len(removed) > 0 {
		log.Info("old recordings removed", "files", removed)
	}
	if err != nil {
		log.Error("remove old recordings", "error", err)
	}
}
