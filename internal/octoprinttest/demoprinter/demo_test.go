package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// scripts/demo.sh end to end, with pipcam replaced by a stand-in that
// checks the config it is given with the real pipcam (check-config),
// saves it and waits: the printer it names is a live OctoPrint printing,
// the key comes by environment, and when pipcam ends the script stops
// OctoPrint.
func TestDemoScript(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real OctoPrint")
	}
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	real := filepath.Join(dir, "pipcam")
	build := exec.Command("go", "build", "-o", real, "./cmd/pipcam")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build pipcam: %v\n%s", err, out)
	}
	standIn := filepath.Join(dir, "pipcam-stand-in")
	script := `#!/bin/sh
# pipcam run -config FILE, as demo.sh calls it
set -e
[ "$1" = run ] || exec "$REAL" "$@"
cp "$3" "$OUT/pipcam.yaml"
printf '%s' "$PIPCAM_PRINTER_API_KEY" > "$OUT/key"
"$REAL" check-config -config "$3" > "$OUT/check.tmp" 2>&1
mv "$OUT/check.tmp" "$OUT/check.txt" # whole: the test reads it as soon as it is there
while [ ! -e "$OUT/stop" ]; do sleep 0.1; done
`
	if err := os.WriteFile(standIn, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(root, "scripts/demo.sh"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "PIPCAM_BIN="+standIn, "REAL="+real, "OUT="+dir, "DEMO_PRINT_TIME=1m")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		<-exited
	}()

	// The stand-in has run once check.txt is there.
	deadline := time.After(10 * time.Minute) // the first run installs OctoPrint
	for !exists(filepath.Join(dir, "check.txt")) {
		select {
		case err := <-exited:
			t.Fatalf("demo.sh ended: %v\n%s", err, out.String())
		case <-deadline:
			t.Fatalf("demo.sh did not start pipcam:\n%s", out.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	check, _ := os.ReadFile(filepath.Join(dir, "check.txt"))
	if !strings.Contains(string(check), ": ok") {
		t.Fatalf("pipcam check-config refused the demo config:\n%s", check)
	}
	cfg, _ := os.ReadFile(filepath.Join(dir, "pipcam.yaml"))
	key, _ := os.ReadFile(filepath.Join(dir, "key"))
	m := regexp.MustCompile(`(?m)^  url: (http://127\.0\.0\.1:\d+)$`).FindSubmatch(cfg)
	if m == nil || !strings.Contains(string(cfg), "type: octoprint") {
		t.Fatalf("demo config:\n%s", cfg)
	}
	if len(key) == 0 || strings.Contains(string(cfg), string(key)) {
		t.Fatalf("the key must come by environment, not in the file")
	}
	url := string(m[1])
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, url+"/api/job", nil)
	req.Header.Set("X-Api-Key", string(key))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 4096)
	n, _ := resp.Body.Read(body)
	resp.Body.Close()
	if !strings.Contains(string(body[:n]), `"state": "Printing"`) {
		t.Errorf("the demo printer is not printing: %s", body[:n])
	}

	// pipcam ends: the script stops OctoPrint on its way out.
	if err := os.WriteFile(filepath.Join(dir, "stop"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err // for the deferred wait
		if err != nil {
			t.Errorf("demo.sh: %v\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("demo.sh did not end with pipcam:\n%s", out.String())
	}
	host := strings.TrimPrefix(url, "http://")
	if c, err := net.DialTimeout("tcp", host, time.Second); err == nil {
		c.Close()
		t.Errorf("OctoPrint still listens on %s after the demo ended", host)
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
