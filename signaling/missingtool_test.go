package signaling

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMissingToolFails runs this test binary again without gst-launch-1.0
// on PATH: a normal run must fail and name what to install; -short skips.
func TestMissingToolFails(t *testing.T) {
	run := func(args ...string) (string, error) {
		cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestWHEPHappyPath$", "-test.count=1"}, args...)...)
		cmd.Env = append(os.Environ(), "PATH=/nonexistent")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run()
	if err == nil || !strings.Contains(out, "gst-launch-1.0") || !strings.Contains(out, "gstreamer1.0-tools") {
		t.Errorf("without gst-launch-1.0: err %v, output:\n%s\nwant a failure naming the tool and its package", err, out)
	}
	out, err = run("-test.short", "-test.v")
	if err != nil || !strings.Contains(out, "SKIP") {
		t.Errorf("-short without gst-launch-1.0: err %v, output:\n%s\nwant a skip", err, out)
	}
}
