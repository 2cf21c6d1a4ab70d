package octoprinttest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// InstallPlugin pip-installs the OctoPrint plugin whose Python project is
// in dir (a pyproject.toml), without dependencies, into this server's own
// site directory, which is on the server's PYTHONPATH: OctoPrint finds it
// by its entry point as it finds a plugin installed into its venv, while
// the cached venv stays as it is for every other test. The server loads
// it at its next (re)start.
func (s *Server) InstallPlugin(ctx context.Context, dir string) error {
	// pip builds in the source tree (build/, *.egg-info): build a copy,
	// so a test never writes into the repository.
	src := filepath.Join(s.BaseDir, "plugin-src", filepath.Base(dir))
	if err := os.RemoveAll(src); err != nil {
		return fmt.Errorf("install plugin %s: %w", dir, err)
	}
	if err := os.CopyFS(src, os.DirFS(dir)); err != nil {
		return fmt.Errorf("install plugin %s: copy: %w", dir, err)
	}
	cmd := exec.CommandContext(ctx, s.python(), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
		"--no-compile", "--disable-pip-version-check", "--upgrade", "--target", s.sitePath(), src)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("install plugin %s: pip: %w: %s", dir, err, out)
	}
	return nil
}

// Python returns the Python of OctoPrint's venv (installing it first if
// need be), for running a plugin's own tests with OctoPrint importable.
func Python(ctx context.Context) (string, error) {
	bin, err := Install(ctx)
	if err != nil {
		return "", err
	}
	return pythonOf(bin), nil
}

func (s *Server) python() string { return pythonOf(s.bin) }

func pythonOf(octoprintBin string) string { return filepath.Join(filepath.Dir(octoprintBin), "python") }

// sitePath is where InstallPlugin puts plugins.
func (s *Server) sitePath() string { return filepath.Join(s.BaseDir, "site-packages") }
