//go:build imagetest

package installtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The .deb in a clean bookworm root, as a user installs it: apt pulls the
// real dependencies from Debian; pipcam's commands work; the daemon, run as
// its unit runs it, serves H.264 over FLV to ffprobe on this machine; the
// unit passes systemd-analyze; remove stops and keeps the config; purge
// leaves nothing of pipcam behind.
func TestInstallAmd64(t *testing.T) { testInstall(t, "amd64") }

// The same for the Raspberry Pi OS 64-bit package, under qemu-user.
func TestInstallArm64(t *testing.T) { testInstall(t, "arm64") }

func testInstall(t *testing.T, arch string) {
	need(t, "ffprobe", "systemd-analyze", "dpkg-deb")
	deb := packageFor(t, arch)
	r := newRoot(t, arch)
	start := time.Now()
	clean := r.sizeMB()

	// The dependencies first, so what pipcam itself adds can be told apart.
	r.copyIn(deb, "/tmp/"+filepath.Base(deb))
	depends, err := exec.Command("dpkg-deb", "-f", deb, "Depends").Output()
	if err != nil {
		t.Fatal(err)
	}
	r.apt(append([]string{"install", "--no-install-recommends"}, depNames(string(depends))...)...)
	withDeps := r.sizeMB()
	before := r.files()

	r.apt("install", "--no-install-recommends", "/tmp/"+filepath.Base(deb))
	installed := r.sizeMB()
	t.Logf("%s: package %.1f MB; clean root %.0f MB, + dependencies %.0f MB, + pipcam %.1f MB (installed in %s)",
		arch, fileMB(deb), clean, withDeps-clean, installed-withDeps, time.Since(start).Round(time.Second))

	t.Run("installed", func(t *testing.T) { checkInstalled(t, r) })
	t.Run("commands", func(t *testing.T) { checkCommands(t, r) })
	t.Run("daemon", func(t *testing.T) { checkDaemon(t, r) })
	t.Run("unit", func(t *testing.T) { checkUnit(t, r) })
	t.Run("remove and purge", func(t *testing.T) { checkRemoveAndPurge(t, r, before) })
}

// depNames are the package names of a Depends field.
func depNames(depends string) []string {
	var out []string
	for _, d := range strings.Split(depends, ",") {
		if f := strings.Fields(strings.TrimSpace(d)); len(f) > 0 {
			out = append(out, f[0])
		}
	}
	return out
}

func fileMB(p string) float64 {
	st, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return float64(st.Size()) / (1 << 20)
}

func checkInstalled(t *testing.T, r *root) {
	for _, p := range []string{"/usr/bin/pipcam", "/etc/pipcam/pipcam.yaml", "/lib/systemd/system/pipcam.service",
		"/usr/share/pipcam/octopi-setup", "/usr/share/doc/pipcam/README.Debian"} {
		if !r.exists(p) {
			t.Errorf("%s not installed", p)
		}
	}
	// The service user, in group video for the cameras.
	if out := r.run("id", "pipcam"); !strings.Contains(out, "(video)") || !strings.Contains(out, "gid=") {
		t.Errorf("id pipcam: %s, want a member of video", out)
	}
	if shell := strings.TrimSpace(r.run("getent", "passwd", "pipcam")); !strings.HasSuffix(shell, ":/usr/sbin/nologin") {
		t.Errorf("pipcam's passwd entry %q: want no login shell", shell)
	}
	// The conffile: readable by the service, not by everyone.
	if out := strings.TrimSpace(r.run("stat", "-c", "%U:%G %a", "/etc/pipcam/pipcam.yaml")); out != "root:pipcam 640" {
		t.Errorf("/etc/pipcam/pipcam.yaml is %s, want root:pipcam 640", out)
	}
	// Enabled: systemctl's offline view of the unit files.
	if out, _ := r.try("systemctl", "is-enabled", "pipcam.service"); strings.TrimSpace(out) != "enabled" {
		t.Errorf("systemctl is-enabled pipcam: %q", out)
	}
	// No OctoPrint here: the plugin stays a wheel, and the install said so.
	if wheels, _ := filepath.Glob(r.path("/usr/share/pipcam/*.whl")); len(wheels) != 1 {
		t.Errorf("plugin wheels in /usr/share/pipcam: %v", wheels)
	}
}

func checkCommands(t *testing.T, r *root) {
	want, err := os.ReadFile(filepath.Join(distDir(), "VERSION"))
	if err != nil {
		t.Fatalf("%v (make package writes it)", err)
	}
	if got := strings.TrimSpace(r.run("pipcam", "version")); got != "pipcam "+strings.TrimSpace(string(want)) {
		t.Errorf("pipcam version = %q, want pipcam %s", got, want)
	}
	// As the service user: the conffile's permissions must let it read.
	out := r.run("setpriv", "--reuid=pipcam", "--regid=pipcam", "--init-groups", "pipcam", "check-config")
	if !strings.HasPrefix(out, "/etc/pipcam/pipcam.yaml: ok") {
		t.Errorf("pipcam check-config:\n%s", out)
	}
	out = r.run("pipcam", "print-pipeline")
	for _, want := range []string{"gst-launch-1.0", "compositor", "textoverlay", "x264enc", "flvmux", "tcpserversink"} {
		if !strings.Contains(out, want) {
			t.Errorf("print-pipeline lacks %s:\n%s", want, out)
		}
	}
}

// unitService reads the [Service] settings of the installed unit that the
// daemon test repeats: ExecStart, Environment, User.
func unitService(t *testing.T, r *root) (execStart []string, env []string, user string) {
	t.Helper()
	for _, line := range strings.Split(r.read("/lib/systemd/system/pipcam.service"), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		switch k {
		case "ExecStart":
			execStart = strings.Fields(v)
		case "Environment":
			env = append(env, v)
		case "User":
			user = v
		}
	}
	if len(execStart) == 0 || user == "" {
		t.Fatalf("the unit has no ExecStart or User")
	}
	return execStart, env, user
}

// freePort is a loopback TCP port nobody listens on now. The root shares
// this machine's network, so the daemon's ports are this machine's.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// checkDaemon runs pipcam in the root the way its unit does (its user and
// groups, ExecStart, Environment; the state and cache directories systemd
// would make) on the shipped config with loopback ports and a small
// picture, and reads 10 s of H.264 over FLV with ffprobe from outside.
func checkDaemon(t *testing.T, r *root) {
	execStart, env, user := unitService(t, r)
	httpPort, flvPort := freePort(t), freePort(t)
	cfg := r.read("/etc/pipcam/pipcam.yaml")
	for old, repl := range map[string]string{
		`listen: ":8080"`:   fmt.Sprintf(`listen: "127.0.0.1:%d"`, httpPort),
		`listen: ":7272"`:   fmt.Sprintf(`listen: "127.0.0.1:%d"`, flvPort),
		"\n  width: 640\n":  "\n  width: 320\n",
		"\n  height: 480\n": "\n  height: 240\n",
	} {
		if !strings.Contains(cfg, old) {
			t.Fatalf("the shipped config has no %q to change for the test", old)
		}
		cfg = strings.Replace(cfg, old, repl, 1)
	}
	r.write("/tmp/pipcam-test.yaml", cfg, 0o644)
	i := slices.Index(execStart, "-config")
	if i < 0 || i+1 >= len(execStart) {
		t.Fatalf("ExecStart %q has no -config", execStart)
	}
	execStart[i+1] = "/tmp/pipcam-test.yaml"
	// StateDirectory=pipcam, CacheDirectory=pipcam (mode 0700, the user's).
	r.run("install", "-d", "-o", user, "-g", user, "-m", "0700", "/var/lib/pipcam", "/var/cache/pipcam")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	args := append([]string{"setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups", "env", "HOME=/var/lib/" + user}, env...)
	daemon := r.cmd(ctx, append(args, execStart...)...)
	var log strings.Builder
	daemon.Stdout, daemon.Stderr = &log, &log
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- daemon.Wait() }()
	defer func() {
		if daemon.ProcessState == nil {
			_ = daemon.Process.Kill()
			<-exited
		}
	}()

	// Ready when /api/status answers; the first start scans every plugin
	// (a minute or more under qemu).
	started := time.Now()
	status := fmt.Sprintf("http://127.0.0.1:%d/api/status", httpPort)
	for {
		resp, err := http.Get(status)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("pipcam exited before serving: %v\n%s", err, tail(log.String(), 30))
		case <-time.After(500 * time.Millisecond):
		}
		if time.Since(started) > 5*time.Minute {
			t.Fatalf("pipcam did not serve %s within 5 minutes\n%s", status, tail(log.String(), 30))
		}
	}
	t.Logf("%s: serving %s after %s", r.arch, status, time.Since(started).Round(100*time.Millisecond))

	// 10 s of stream time, read from this machine.
	probe := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-rw_timeout", "30000000",
		"-read_intervals", "%+10", "-select_streams", "v:0", "-count_packets",
		"-show_entries", "stream=codec_name,width,height,nb_read_packets", "-of", "json",
		fmt.Sprintf("tcp://127.0.0.1:%d", flvPort))
	out, err := probe.Output()
	if err != nil {
		t.Fatalf("ffprobe: %v\n%s\npipcam:\n%s", exitText(err), out, tail(log.String(), 30))
	}
	var got struct {
		Streams []struct {
			Codec   string `json:"codec_name"`
			Width   int    `json:"width"`
			Height  int    `json:"height"`
			Packets string `json:"nb_read_packets"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &got); err != nil || len(got.Streams) != 1 {
		t.Fatalf("ffprobe said %s (%v)", out, err)
	}
	s := got.Streams[0]
	packets, _ := strconv.Atoi(s.Packets)
	t.Logf("%s: ffprobe over FLV: %s %dx%d, %d packets in 10 s", r.arch, s.Codec, s.Width, s.Height, packets)
	if s.Codec != "h264" || s.Width != 320 || s.Height != 240 {
		t.Errorf("FLV stream is %s %dx%d, want h264 320x240", s.Codec, s.Width, s.Height)
	}
	// 15 fps configured: at least a third of that arrives even under qemu.
	if packets < 50 {
		t.Errorf("%d H.264 packets in 10 s of stream, want at least 50", packets)
	}

	// systemd stops it with SIGTERM and counts anything but 0 as a failure.
	_ = daemon.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("pipcam exited with %v on SIGTERM, want 0\n%s", err, tail(log.String(), 20))
		}
	case <-time.After(30 * time.Second):
		t.Errorf("pipcam did not stop within 30 s of SIGTERM")
	}
	if !r.exists("/var/cache/pipcam/gstreamer-registry.bin") {
		t.Errorf("no GStreamer registry in /var/cache/pipcam: the unit's Environment is not used")
	}
}

// exposureRE is systemd-analyze security's verdict line.
var exposureRE = regexp.MustCompile(`Overall exposure level for pipcam\.service: ([0-9.]+)`)

// checkUnit checks the installed unit with this machine's systemd-analyze
// (systemd cannot run in the chroot): verify against the root (so
// ExecStart's binary is the installed one), and the exposure under 4.
func checkUnit(t *testing.T, r *root) {
	unit := r.path("/lib/systemd/system/pipcam.service")
	out, err := exec.Command("systemd-analyze", "verify", "--root="+r.dir, "/lib/systemd/system/pipcam.service").CombinedOutput()
	if err != nil || strings.Contains(string(out), "pipcam.service") {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err = exec.Command("systemd-analyze", "security", "--offline=true", unit).CombinedOutput()
	m := exposureRE.FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, tail(string(out), 10))
	}
	exposure, _ := strconv.ParseFloat(string(m[1]), 64)
	t.Logf("systemd-analyze security: exposure %.1f", exposure)
	if exposure >= 4 {
		t.Errorf("exposure %.1f, want under 4:\n%s", exposure, out)
	}
}

func checkRemoveAndPurge(t *testing.T, r *root, before map[string]bool) {
	r.apt("remove", "pipcam")
	if r.exists("/usr/bin/pipcam") || r.exists("/lib/systemd/system/pipcam.service") {
		t.Errorf("remove left the binary or the unit")
	}
	if !r.exists("/etc/pipcam/pipcam.yaml") {
		t.Errorf("remove took the config: only purge may")
	}
	if _, err := r.try("id", "pipcam"); err != nil {
		t.Errorf("remove took the user: only purge may")
	}

	r.apt("purge", "pipcam")
	if out, err := r.try("dpkg-query", "-W", "-f=${Status}", "pipcam"); err == nil && !strings.Contains(out, "not-installed") {
		t.Errorf("dpkg still knows pipcam after purge: %s", out)
	}
	for _, what := range [][]string{{"passwd", "pipcam"}, {"group", "pipcam"}} {
		if out, err := r.try(append([]string{"getent"}, what...)...); err == nil {
			t.Errorf("purge left %s entry %s", what[0], strings.TrimSpace(out))
		}
	}
	after := r.files()
	for p := range after {
		if !before[p] {
			t.Errorf("purge left %s", p)
		}
	}
	for p := range before {
		if !after[p] {
			t.Errorf("purge removed %s, which was there before pipcam", p)
		}
	}
}
