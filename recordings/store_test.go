package recordings

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pipcam/pipcam/configs"
)

func TestFileName(t *testing.T) {
	at := time.Date(2024, 5, 1, 14, 3, 9, 0, time.Local)
	tests := map[string]string{
		"benchy.gcode":                    "2024-05-01_14-03-09_benchy.mp4",
		"folder/Benchy v2 (PLA).GCODE":    "2024-05-01_14-03-09_Benchy_v2_PLA.mp4",
		"../../etc/passwd":                "2024-05-01_14-03-09_passwd.mp4",
		`C:\prints\cube.gco`:              "2024-05-01_14-03-09_cube.mp4",
		"Würfel.gcode":                    "2024-05-01_14-03-09_W_rfel.mp4",
		"":                                "2024-05-01_14-03-09_print.mp4",
		"....gcode":                       "2024-05-01_14-03-09_print.mp4",
		"$(rm -rf ~).gcode":               "2024-05-01_14-03-09_rm_-rf.mp4",
		strings.Repeat("x", 300) + ".gco": "2024-05-01_14-03-09_" + strings.Repeat("x", maxStem) + ".mp4",
	}
	for in, want := range tests {
		got := FileName(in, at)
		if got != want {
			t.Errorf("FileName(%q) = %q, want %q", in, got, want)
		}
		if started, ok := parseName(got); !ok || !started.Equal(at) {
			t.Errorf("%q does not read back as a recording started at %s: %s %v", got, at, started, ok)
		}
	}
}

func TestNamesThatAreNotRecordings(t *testing.T) {
	for _, n := range []string{"", "..", "x.mp4", "2024-05-01_14-03-09_.mp4", "2024-05-01_14-03-09_a.mkv",
		"2024-05-01_14-03-09_a/../../b.mp4", "2024-13-01_14-03-09_a.mp4", "2024-05-01_14-03-09_a.mp4\x00"} {
		if _, ok := parseName(n); ok {
			t.Errorf("%q taken for a recording", n)
		}
	}
}

func newStore(t *testing.T, keepPrints int, keep configs.ByteSize) *Store {
	t.Helper()
	s, err := New(configs.Recording{Dir: filepath.Join(t.TempDir(), "rec"), KeepPrints: keepPrints, KeepSize: keep})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// record makes a recording of size bytes the way the daemon does.
func record(t *testing.T, s *Store, gcode string, at time.Time, size int) string {
	t.Helper()
	path, err := s.Begin(gcode, at)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.End(); err != nil {
		t.Fatal(err)
	}
	return filepath.Base(path)
}

func names(t *testing.T, s *Store) []string {
	t.Helper()
	files, err := s.Files()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		out = append(out, f.Name)
	}
	return out
}

var day = time.Date(2024, 5, 1, 8, 0, 0, 0, time.Local)

func TestKeepPrintsRemovesTheOldest(t *testing.T) {
	s := newStore(t, 3, 0)
	var made []string
	for i := range 5 {
		made = append(made, record(t, s, "p.gcode", day.Add(time.Duration(i)*time.Hour), 10))
	}
	if got, want := names(t, s), []string{made[4], made[3], made[2]}; !slices.Equal(got, want) {
		t.Fatalf("kept %v, want the newest three %v", got, want)
	}
}

func TestKeepSizeRemovesTheOldestNeverTheCurrent(t *testing.T) {
	s := newStore(t, 0, 1000)
	a := record(t, s, "a.gcode", day, 400)
	b := record(t, s, "b.gcode", day.Add(time.Hour), 400)
	// A third print: while it grows, the oldest goes first, then the
	// next; the one being recorded stays even when it alone is too big.
	path, err := s.Begin("c.gcode", day.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	c := filepath.Base(path)
	grow := func(size int) []string {
		if err := os.WriteFile(path, make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Prune(); err != nil {
			t.Fatal(err)
		}
		return names(t, s)
	}
	if got := grow(100); !slices.Equal(got, []string{c, b, a}) {
		t.Fatalf("within the limit: %v", got)
	}
	if got := grow(300); !slices.Equal(got, []string{c, b}) {
		t.Fatalf("1100 bytes: %v, want the oldest gone", got)
	}
	if got := grow(2000); !slices.Equal(got, []string{c}) {
		t.Fatalf("the current alone over the limit: %v", got)
	}
	files, _ := s.Files()
	if !files[0].Recording {
		t.Fatal("the current file is not marked as recording")
	}
	if err := s.Delete(c); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("deleting the file being recorded: %v", err)
	}
	if err := s.End(); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(c); err != nil {
		t.Fatalf("delete after the end: %v", err)
	}
}

func TestSameSecondGetsItsOwnFile(t *testing.T) {
	s := newStore(t, 0, 0)
	a := record(t, s, "a.gcode", day, 1)
	b := record(t, s, "a.gcode", day, 1)
	if a == b || b != strings.TrimSuffix(a, Ext)+"-2"+Ext {
		t.Fatalf("second file %q (first %q)", b, a)
	}
}

func TestOpenAndDeleteOnlyRecordings(t *testing.T) {
	s := newStore(t, 0, 0)
	name := record(t, s, "a.gcode", day, 5)
	if err := os.WriteFile(filepath.Join(s.Dir(), "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := s.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(f)
	f.Close()
	if len(data) != 5 {
		t.Fatalf("read %d bytes", len(data))
	}
	for _, bad := range []string{"notes.txt", "../rec/" + name, "/etc/passwd"} {
		if _, err := s.Open(bad); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("Open(%q): %v", bad, err)
		}
		if err := s.Delete(bad); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("Delete(%q): %v", bad, err)
		}
	}
	missing := FileName("gone.gcode", day)
	if _, err := s.Open(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(missing): %v", err)
	}
	if got := names(t, s); !slices.Equal(got, []string{name}) {
		t.Fatalf("listed %v: other files are not recordings", got)
	}
}
