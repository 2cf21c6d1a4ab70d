package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// The OctoPrint plugin's pipcam client (standard-library Python) against
// the real daemon: snapshots, live layout changes with the token, refusals
// with pipcam's reasons. The plugin inside a real OctoPrint is tested by
// TestOctoPrintWebcam.
func TestPluginClient(t *testing.T) {
	need(t, "python3")
	cfg := testConfig()
	cfg.HTTP.Token = "plugin-test-token-0123456789"
	d := startTestDaemon(t, cfg)
	tests := filepath.Join(pluginProject(), "tests")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "python3", "-m", "unittest", "-v", "test_client")
	cmd.Dir = tests
	cmd.Env = append(cmd.Environ(), "PIPCAM_URL=http://"+d.HTTPAddr()+"/", "PIPCAM_TOKEN="+cfg.HTTP.Token.Reveal(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3 -m unittest test_client: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
