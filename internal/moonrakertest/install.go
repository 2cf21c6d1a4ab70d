package moonrakertest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// ErrNoKlipper is returned when Klipper's source is not on this machine
// and cannot be fetched: tests skip on it, saying so.
var ErrNoKlipper = errors.New("no Klipper source")

// Paths are what scripts/moonraker.sh built.
type Paths struct {
	Klipper      string // Klipper's source tree (klippy/klippy.py in it)
	MCU          string // the Linux-process MCU, out/klipper.elf
	KlippyPython string // the Klippy venv's python
	Moonraker    string // the moonraker command of its venv
	GPIOShim     string // the LD_PRELOAD shim faking /dev/gpiochip0
}

// Install runs scripts/moonraker.sh, which builds everything once (about
// half a minute) and caches it in .cache/klipper. It returns ErrNoKlipper
// (wrapped, with the script's reason) when the script finds no Klipper
// source, and an error naming what to install for a missing tool.
func Install(ctx context.Context) (Paths, error) {
	script, err := repoFile("scripts/moonraker.sh")
	if err != nil {
		return Paths{}, err
	}
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, script)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit) && exit.ExitCode() == 3:
		return Paths{}, fmt.Errorf("%w: %s", ErrNoKlipper, lastLine(errOut.String()))
	case err != nil:
		return Paths{}, fmt.Errorf("build Klipper and Moonraker with %s: %w: %s", script, err, bytes.TrimSpace(errOut.Bytes()))
	}
	var p Paths
	fields := map[string]*string{
		"klipper": &p.Klipper, "mcu": &p.MCU, "klippy_python": &p.KlippyPython,
		"moonraker": &p.Moonraker, "gpio_shim": &p.GPIOShim,
	}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && fields[k] != nil {
			*fields[k] = v
		}
	}
	for k, v := range fields {
		if _, err := os.Stat(*v); err != nil {
			return Paths{}, fmt.Errorf("%s gave no %s: %w", script, k, err)
		}
	}
	return p, nil
}

// repoFile finds a file of the repository from this source file's place
// (tests and the bench run from the source tree).
func repoFile(rel string) (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("%s: cannot locate the repository", rel)
	}
	p := filepath.Join(filepath.Dir(file), "..", "..", rel)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s: %w", rel, err)
	}
	return p, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
