package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The daemon runs Go on goProcs threads with sysmon kept awake (it starts
// itself again with GODEBUG set, as the same process); GOMAXPROCS and a
// GODEBUG schedtrace of the user's own still win.
func TestDaemonTunesGoRuntimeUnlessTheEnvironmentDoes(t *testing.T) {
	dir := t.TempDir()
	bin := buildPipcam(t, dir)
	cfgPath := filepath.Join(dir, "pipcam.yaml")
	yaml := fmt.Sprintf("http: {listen: \"127.0.0.1:0\", token_file: %q}\nflv: {listen: \"127.0.0.1:0\"}\nwebrtc: {ice_port: 0}\n", filepath.Join(dir, "token"))
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		env          []string
		procs        int
		wantGODEBUG  string
		avoidGODEBUG string
	}{
		{nil, goProcs, "GODEBUG=" + sysmonAwake, ""},
		{[]string{"GODEBUG=madvdontneed=1"}, goProcs, "GODEBUG=madvdontneed=1," + sysmonAwake, ""},
		{[]string{"GOMAXPROCS=3", "GODEBUG=schedtrace=0"}, 3, "GODEBUG=schedtrace=0", sysmonAwake},
	} {
		var out syncLog
		cmd := exec.Command(bin, "run", "-config", cfgPath)
		cmd.Env = append(withoutEnv(withoutEnv(os.Environ(), "GOMAXPROCS"), "GODEBUG"), tt.env...)
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(out.String(), "starting pipcam") && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", cmd.Process.Pid))
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if err != nil {
			t.Fatal(err)
		}
		line := ""
		for l := range strings.SplitSeq(out.String(), "\n") {
			if strings.Contains(l, "starting pipcam") {
				line = l
			}
		}
		if want := fmt.Sprintf("go_procs=%d", tt.procs); !strings.Contains(line, want) {
			t.Errorf("env %v: start-up line %q, want %s\n%s", tt.env, line, want, out.String())
		}
		vars := strings.Split(string(environ), "\x00")
		if !slices.Contains(vars, tt.wantGODEBUG) {
			t.Errorf("env %v: the daemon's environment has no %s: %q", tt.env, tt.wantGODEBUG, vars)
		}
		if tt.avoidGODEBUG != "" && strings.Contains(string(environ), tt.avoidGODEBUG) {
			t.Errorf("env %v: the daemon overrode the user's GODEBUG: %q", tt.env, vars)
		}
	}
}
