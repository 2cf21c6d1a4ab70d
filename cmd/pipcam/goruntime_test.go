package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pipcam/pipcam/internal/proc"
)

// The daemon runs Go on goProcs threads and collects at gcPercent;
// GOMAXPROCS and GOGC still win.
func TestDaemonTunesGoUnlessTheEnvironmentDoes(t *testing.T) {
	dir := t.TempDir()
	bin := buildPipcam(t, dir)
	cfgPath := filepath.Join(dir, "pipcam.yaml")
	yaml := fmt.Sprintf("http: {listen: \"127.0.0.1:0\", token_file: %q}\nflv: {listen: \"127.0.0.1:0\"}\nwebrtc: {ice_port: 0}\n", filepath.Join(dir, "token"))
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		env       []string
		procs, gc int
	}{
		{nil, goProcs, gcPercent},
		{[]string{"GOMAXPROCS=3", "GOGC=80"}, 3, 80},
	} {
		var out proc.Log
		env := withoutEnv(withoutEnv(os.Environ(), "GOMAXPROCS"), "GOGC")
		cmd, exited := runBinary(t, bin, append(env, tt.env...), &out, "run", "-config", cfgPath)
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(out.String(), "starting pipcam") && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		_ = cmd.Process.Kill()
		<-exited
		line := ""
		for l := range strings.SplitSeq(out.String(), "\n") {
			if strings.Contains(l, "starting pipcam") {
				line = l
			}
		}
		for _, want := range []string{fmt.Sprintf("go_procs=%d", tt.procs), fmt.Sprintf("go_gc_percent=%d", tt.gc)} {
			if !strings.Contains(line, want) {
				t.Errorf("env %v: start-up line %q, want %s\n%s", tt.env, line, want, out.String())
			}
		}
	}
}

func withoutEnv(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}
