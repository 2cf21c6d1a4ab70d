package compositor

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-gst/go-gst/gst"
)

// Recording timing.
const (
	// recordFragment is the MP4 fragment length: a crash loses at most
	// the fragment being gathered.
	recordFragment = time.Second
	// recordSync is how often the file is flushed to the disk, so a power
	// cut loses only the last seconds too (a crash of pipcam loses
	// nothing written: the kernel has it).
	recordSync = 2 * time.Second
	// recordFinish bounds the muxer's last write at the end of a print.
	recordFinish = 5 * time.Second
)

// RecordingState is what the recorder is doing.
type RecordingState string

const (
	RecordingIdle   RecordingState = "idle"      // no print being recorded
	RecordingActive RecordingState = "recording" // a print being recorded
	RecordingFailed RecordingState = "failed"    // the last recording stopped on an error
)

// RecordingStatus is the recorder's part of /api/status.
type RecordingStatus struct {
	State RecordingState `json:"state"`
	// File is the recording under way or the last one (its name in the
	// recordings directory).
	File    string     `json:"file,omitempty"`
	Started *time.Time `json:"started,omitempty"`
	Bytes   int64      `json:"bytes"` // the file's size
	// Error says why the last recording stopped early (a full disk).
	Error     string     `json:"error,omitempty"`
	ErrorTime *time.Time `json:"error_time,omitempty"`
}

// Recorder writes the one encode to a file, one print at a time, in a
// pipeline of its own: a full or slow disk stops the recording, never the
// Graph or its viewers. The file is fragmented MP4: playable up to the
// last fragment whatever happens to pipcam.
type Recorder struct {
	g       *Graph
	log     *slog.Logger
	desc    *Description
	backlog uint64

	mu       sync.Mutex
	cur      *recording // nil when idle
	last     RecordingStatus
	lastPath string // the last file, for its size
}

// recording is one file being written.
type recording struct {
	path    string
	file    *os.File
	out     *output
	started time.Time
	stop    chan struct{} // closed by Stop
	done    chan struct{} // closed when the file is closed
	err     error         // why it ended early; read after done
}

// NewRecorder prepares recordings of the Graph's encode. Every element
// they need must be installed: the error names the missing ones.
func NewRecorder(g *Graph, log *slog.Logger) (*Recorder, error) {
	initGStreamer()
	backlog := outputBacklog(g.cfg.Encoder.BitrateKbps)
	desc, err := recordDescription(backlog)
	if err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	if err := checkFactories(desc.Factories(), Exists); err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	return &Recorder{g: g, log: log, desc: desc, backlog: backlog, last: RecordingStatus{State: RecordingIdle}}, nil
}

// Start records into a new file at path (which must not exist), ending
// the recording under way first.
func (r *Recorder) Start(path string) error {
	r.Stop()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		err = fmt.Errorf("start recording: %w", err)
		r.failed(path, time.Time{}, err)
		return err
	}
	out, err := startOutput(r.g, outputOptions{desc: r.desc, maxBacklog: r.backlog, setup: func(p *gst.Pipeline) error {
		sink, err := p.GetElementByName(nameOutSink)
		if err != nil {
			return fmt.Errorf("recording pipeline: %w", err)
		}
		return sink.SetProperty("fd", int(f.Fd()))
	}})
	if err != nil {
		f.Close()
		os.Remove(path)
		err = fmt.Errorf("start recording: %w", err)
		r.failed(path, time.Time{}, err)
		return err
	}
	rec := &recording{path: path, file: f, out: out, started: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	r.mu.Lock()
	r.cur = rec
	r.mu.Unlock()
	r.log.Info("recording", "file", path)
	go r.run(rec)
	return nil
}

// run flushes the file now and then until the recording stops or fails.
func (r *Recorder) run(rec *recording) {
	defer close(rec.done)
	tick := time.NewTicker(recordSync)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			if err := rec.file.Sync(); err != nil {
				rec.out.close()
				r.end(rec, fmt.Errorf("flush %s: %w", rec.path, err))
				return
			}
		case err := <-rec.out.died:
			rec.out.close()
			r.end(rec, err)
			return
		case <-rec.stop:
			r.end(rec, rec.out.finish(recordFinish))
			return
		}
	}
}

// end closes the file and records how the recording ended.
func (r *Recorder) end(rec *recording, err error) {
	if serr := rec.file.Sync(); err == nil && serr != nil {
		err = fmt.Errorf("flush %s: %w", rec.path, serr)
	}
	if cerr := rec.file.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", rec.path, cerr)
	}
	r.mu.Lock()
	if r.cur == rec {
		r.cur = nil
	}
	r.mu.Unlock()
	if err != nil {
		err = explainWriteError(err, filepath.Dir(rec.path))
		rec.err = err
		r.failed(rec.path, rec.started, err)
		r.log.Error("recording stopped", "file", rec.path, "error", err, "debug", debugOf(err))
		return
	}
	r.mu.Lock()
	r.last = RecordingStatus{State: RecordingIdle, File: filepath.Base(rec.path), Started: &rec.started}
	r.lastPath = rec.path
	r.mu.Unlock()
	r.log.Info("recording done", "file", rec.path, "bytes", fileSize(rec.path))
}

func (r *Recorder) failed(path string, started time.Time, err error) {
	now := time.Now()
	st := RecordingStatus{State: RecordingFailed, File: filepath.Base(path), Error: err.Error(), ErrorTime: &now}
	if !started.IsZero() {
		st.Started = &started
	}
	r.mu.Lock()
	r.last, r.lastPath = st, path
	r.mu.Unlock()
}

// Stop ends the recording under way, if any, and waits until its file is
// complete and closed. It returns why the recording had stopped early.
func (r *Recorder) Stop() error {
	r.mu.Lock()
	rec := r.cur
	r.mu.Unlock()
	if rec == nil {
		return nil
	}
	select {
	case <-rec.stop:
	default:
		close(rec.stop)
	}
	<-rec.done
	return rec.err
}

// Close ends the recording under way (the file stays complete).
func (r *Recorder) Close() { _ = r.Stop() }

// Status reports the recording under way or how the last one ended.
func (r *Recorder) Status() any {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rec := r.cur; rec != nil {
		started := rec.started
		return RecordingStatus{State: RecordingActive, File: filepath.Base(rec.path), Started: &started, Bytes: fileSize(rec.path)}
	}
	st := r.last
	st.Bytes = fileSize(r.lastPath)
	return st
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// explainWriteError says in plain words that the disk is full, which is
// what a user can act on (GStreamer says "No space left on the
// resource").
func explainWriteError(err error, dir string) error {
	if strings.Contains(strings.ToLower(err.Error()), "no space left") {
		return fmt.Errorf("the disk holding %s is full; the recording stopped there (%w)", dir, err)
	}
	return err
}
