// Package recordings keeps the print recordings on disk: their names
// (start time and G-code file), the retention rule (keep N prints, N
// bytes), and listing, opening and deleting them for the HTTP side. The
// compositor writes them. A leaf: it imports configs only.
package recordings

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pipcam/pipcam/configs"
)

// Ext is the recordings' file extension: fragmented MP4.
const Ext = ".mp4"

// Store is the directory of recordings. Safe for concurrent use.
type Store struct {
	dir        string
	keepPrints int
	keepBytes  int64

	mu      sync.Mutex
	current string // the file being recorded: listed, never removed
}

// File is one recording as GET /api/recordings lists it.
type File struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
	// Started is when the print started (from the name).
	Started  time.Time `json:"started"`
	Modified time.Time `json:"modified"`
	// Recording is true for the file of the print under way.
	Recording bool `json:"recording"`
}

// New opens (and makes, if missing) the recordings directory.
func New(cfg configs.Recording) (*Store, error) {
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("recordings directory: %w", err)
	}
	return &Store{dir: cfg.Dir, keepPrints: cfg.KeepPrints, keepBytes: cfg.KeepSize.Bytes()}, nil
}

// Dir is the recordings directory.
func (s *Store) Dir() string { return s.dir }

// Begin picks the file for a print of gcode started at at, marks it as
// the one being recorded, and removes the oldest recordings beyond the
// limits with room for it. It returns the new file's path (not yet made).
func (s *Store) Begin(gcode string, at time.Time) (string, error) {
	s.mu.Lock()
	name := ""
	base := FileName(gcode, at)
	for i := 1; name == "" && i < 1000; i++ {
		n := base
		if i > 1 {
			n = base[:len(base)-len(Ext)] + fmt.Sprintf("-%d", i) + Ext
		}
		if _, err := os.Lstat(filepath.Join(s.dir, n)); errors.Is(err, fs.ErrNotExist) {
			name = n
		}
	}
	if name == "" {
		s.mu.Unlock()
		return "", fmt.Errorf("no free file name for %s in %s", base, s.dir)
	}
	s.current = name
	s.mu.Unlock()
	_, err := s.prune(1)
	return filepath.Join(s.dir, name), err
}

// End marks the recording finished and applies the limits again.
func (s *Store) End() error {
	s.mu.Lock()
	s.current = ""
	s.mu.Unlock()
	_, err := s.prune(0)
	return err
}

// Prune removes the oldest recordings beyond the limits (never the one
// being recorded, nor the newest) and returns their names. Call it now and then during a
// long print: the file being recorded grows.
func (s *Store) Prune() ([]string, error) { return s.prune(0) }

// prune keeps room for reserve more recordings within keep_prints.
func (s *Store) prune(reserve int) ([]string, error) {
	files, err := s.Files()
	if err != nil {
		return nil, err
	}
	slices.Reverse(files) // oldest first
	count, total := len(files)+reserve, int64(0)
	for _, f := range files {
		total += f.Size
	}
	var removed []string
	var errs []error
	for i, f := range files {
		over := s.keepPrints > 0 && count > s.keepPrints || s.keepBytes > 0 && total > s.keepBytes
		if !over {
			break
		}
		// The print being recorded, and the last one, stay whatever
		// their size: a long print is not recorded to be thrown away.
		if f.Recording || i == len(files)-1 && reserve == 0 {
			continue
		}
		if err := os.Remove(filepath.Join(s.dir, f.Name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove old recording: %w", err))
			continue
		}
		removed = append(removed, f.Name)
		count--
		total -= f.Size
	}
	return removed, errors.Join(errs...)
}

// Files lists the recordings, newest first. Other files in the directory
// are left out.
func (s *Store) Files() ([]File, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("list recordings: %w", err)
	}
	s.mu.Lock()
	current := s.current
	s.mu.Unlock()
	var files []File
	for _, e := range entries {
		started, ok := parseName(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		files = append(files, File{Name: e.Name(), Size: info.Size(), Started: started, Modified: info.ModTime(), Recording: e.Name() == current})
	}
	// Names start with the time: sorted by name is sorted by start.
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(b.Name, a.Name) })
	return files, nil
}

// List is Files for the HTTP API, which encodes it as JSON.
func (s *Store) List() (any, error) { return s.Files() }

// Open opens a recording for reading. A name that is not a recording's
// wraps fs.ErrInvalid; one that does not exist, fs.ErrNotExist.
func (s *Store) Open(name string) (*os.File, error) {
	if _, ok := parseName(name); !ok {
		return nil, fmt.Errorf("%w: not a recording's name", fs.ErrInvalid)
	}
	f, err := os.Open(filepath.Join(s.dir, name))
	if err != nil {
		return nil, fmt.Errorf("open recording: %w", err)
	}
	return f, nil
}

// Delete removes a finished recording. The one being recorded is refused
// (fs.ErrPermission); names as for Open.
func (s *Store) Delete(name string) error {
	if _, ok := parseName(name); !ok {
		return fmt.Errorf("%w: not a recording's name", fs.ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if name == s.current {
		return fmt.Errorf("%w: %s is being recorded", fs.ErrPermission, name)
	}
	if err := os.Remove(filepath.Join(s.dir, name)); err != nil {
		return fmt.Errorf("delete recording: %w", err)
	}
	return nil
}
