//go:build imagetest

// Package installtest installs the .deb packages `make package` built into
// clean Debian bookworm roots made with debootstrap (arm64 under
// qemu-user), runs pipcam there, removes and purges it, and runs the OctoPi
// CustomPiOS module against a minimal copy of OctoPi's files. Run by `make
// image-test` (build tag imagetest: too heavy for every `go test ./...`).
package installtest

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// top is the repository's top directory.
func top() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func cacheDir() string {
	if c := os.Getenv("PIPCAM_CACHE"); c != "" {
		return c
	}
	return filepath.Join(top(), ".cache")
}

func distDir() string {
	if d := os.Getenv("PIPCAM_DIST"); d != "" {
		return d
	}
	return filepath.Join(top(), "dist")
}

// packageFor returns the newest .deb make package built for arch.
func packageFor(t *testing.T, arch string) string {
	t.Helper()
	debs, _ := filepath.Glob(filepath.Join(distDir(), "pipcam_*_"+arch+".deb"))
	var newest string
	var newestTime time.Time
	for _, d := range debs {
		if st, err := os.Stat(d); err == nil && st.ModTime().After(newestTime) {
			newest, newestTime = d, st.ModTime()
		}
	}
	if newest == "" {
		t.Fatalf("no pipcam_*_%s.deb in %s: run make package", arch, distDir())
	}
	return newest
}

// need fails the test when a tool is missing, naming what installs it.
func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not installed: run scripts/package-deps.sh (make image-test does)", tool)
		}
	}
	if os.Geteuid() != 0 {
		t.Fatal("the install tests chroot into Debian roots: run them as root")
	}
}

// root is a fresh copy of a clean Debian bookworm root (scripts/debroot.sh
// base ARCH: minbase + systemd, what a Raspberry Pi OS system starts with).
type root struct {
	t    *testing.T
	dir  string
	arch string
}

// newRoot copies the cached clean root, mounts /proc in it and keeps
// services from starting in it (policy-rc.d: a package's postinst would
// start them on this machine). Cleanup unmounts /proc, and removes the copy
// only once nothing is mounted inside it.
func newRoot(t *testing.T, arch string) *root {
	t.Helper()
	need(t, "debootstrap", "chroot", "mount", "umount", "cp", "du")
	out, err := exec.Command(filepath.Join(top(), "scripts", "debroot.sh"), "base", arch).Output()
	if err != nil {
		t.Fatalf("scripts/debroot.sh base %s: %v", arch, exitText(err))
	}
	base := strings.TrimSpace(string(out))
	dir := filepath.Join(cacheDir(), "installtest", fmt.Sprintf("%s-%d", arch, time.Now().UnixNano()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", base+"/.", dir).CombinedOutput(); err != nil {
		t.Fatalf("copy %s: %v: %s", base, err, out)
	}
	r := &root{t: t, dir: dir, arch: arch}
	t.Cleanup(r.remove)
	if out, err := exec.Command("mount", "-t", "proc", "proc", filepath.Join(dir, "proc")).CombinedOutput(); err != nil {
		t.Fatalf("mount proc in %s: %v: %s", dir, err, out)
	}
	resolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		t.Fatal(err)
	}
	r.write("/etc/resolv.conf", string(resolv), 0o644)
	r.write("/usr/sbin/policy-rc.d", "#!/bin/sh\n# install test: no service starts in this root\nexit 101\n", 0o755)
	return r
}

// remove unmounts everything under the root, then deletes it. A mount that
// will not go keeps the copy: deleting through it would reach the host.
func (r *root) remove() {
	for _, m := range r.mounts() {
		_ = exec.Command("umount", m).Run()
	}
	for _, m := range r.mounts() {
		_ = exec.Command("umount", "-l", m).Run()
	}
	if left := r.mounts(); len(left) > 0 {
		r.t.Errorf("still mounted, %s not removed: %v", r.dir, left)
		return
	}
	if err := os.RemoveAll(r.dir); err != nil {
		r.t.Errorf("remove %s: %v", r.dir, err)
	}
}

// mounts lists mount points inside the root, deepest first.
func (r *root) mounts() []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], r.dir+"/") {
			out = append([]string{fields[4]}, out...)
		}
	}
	return out
}

// path is a path inside the root as seen from this machine.
func (r *root) path(p string) string { return filepath.Join(r.dir, p) }

func (r *root) write(p, content string, mode os.FileMode) {
	r.t.Helper()
	if err := os.MkdirAll(filepath.Dir(r.path(p)), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(r.path(p), []byte(content), mode); err != nil {
		r.t.Fatal(err)
	}
	if err := os.Chmod(r.path(p), mode); err != nil {
		r.t.Fatal(err)
	}
}

func (r *root) read(p string) string {
	r.t.Helper()
	b, err := os.ReadFile(r.path(p))
	if err != nil {
		r.t.Fatal(err)
	}
	return string(b)
}

func (r *root) exists(p string) bool {
	_, err := os.Lstat(r.path(p))
	return err == nil
}

// cmd is a command run inside the root, as root, with a plain environment.
// HOME is in /tmp: what the test's own commands cache there (GStreamer's
// registry for `pipcam print-pipeline` run as root) is not the package's.
func (r *root) cmd(ctx context.Context, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, "chroot", append([]string{r.dir}, args...)...)
	c.Env = []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"LC_ALL=C", "DEBIAN_FRONTEND=noninteractive", "HOME=/tmp",
	}
	return c
}

// try runs a command in the root and returns its output and error.
func (r *root) try(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	out, err := r.cmd(ctx, args...).CombinedOutput()
	return string(out), err
}

// run runs a command in the root and fails the test if it fails.
func (r *root) run(args ...string) string {
	r.t.Helper()
	out, err := r.try(args...)
	if err != nil {
		r.t.Fatalf("in the %s root: %s: %v\n%s", r.arch, strings.Join(args, " "), err, tail(out, 40))
	}
	return out
}

// apt runs apt-get in the root. Packages downloaded before are taken from
// .cache/apt-archives/ARCH and new ones kept there, so a warm run does not
// download them again; a mirror mid-sync ("File has unexpected size") is
// tried again.
func (r *root) apt(args ...string) string {
	r.t.Helper()
	archives := filepath.Join(cacheDir(), "apt-archives", r.arch)
	inRoot := r.path("/var/cache/apt/archives")
	if err := os.MkdirAll(archives, 0o755); err != nil {
		r.t.Fatal(err)
	}
	_ = exec.Command("sh", "-c", `cp -n "$1"/*.deb "$2"/ 2>/dev/null || true`, "sh", archives, inRoot).Run()
	var out string
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		if _, uerr := r.try("apt-get", "update", "-q"); uerr != nil && attempt < 3 {
			continue
		}
		if out, err = r.try(append([]string{"apt-get", "-q", "-y"}, args...)...); err == nil {
			break
		}
	}
	_ = exec.Command("sh", "-c", `cp -n "$2"/*.deb "$1"/ 2>/dev/null || true`, "sh", archives, inRoot).Run()
	if err != nil {
		r.t.Fatalf("in the %s root: apt-get %s: %v\n%s", r.arch, strings.Join(args, " "), err, tail(out, 40))
	}
	return out
}

// copyIn copies a file from this machine into the root.
func (r *root) copyIn(src, dst string) {
	r.t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		r.t.Fatal(err)
	}
	st, _ := os.Stat(src)
	r.write(dst, string(b), st.Mode().Perm())
}

// files lists every path in the root but the ones that change by
// themselves (apt's and dpkg's state and logs, caches, /proc, /dev, /tmp).
func (r *root) files() map[string]bool {
	r.t.Helper()
	skip := []string{"/proc", "/dev", "/sys", "/run", "/tmp", "/var/tmp", "/var/log",
		"/var/cache/apt", "/var/cache/debconf", "/var/lib/apt", "/var/lib/dpkg", "/var/cache/ldconfig", "/etc/ld.so.cache"}
	out := map[string]bool{}
	err := filepath.WalkDir(r.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := "/" + strings.TrimPrefix(strings.TrimPrefix(p, r.dir), "/")
		for _, s := range skip {
			if rel == s || strings.HasPrefix(rel, s+"/") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		out[rel] = true
		return nil
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

// sizeMB is the root's disk use, apt's downloaded packages not counted.
func (r *root) sizeMB() float64 {
	r.t.Helper()
	out, err := exec.Command("du", "-sk", "--exclude=var/cache/apt/archives", "--exclude=proc", r.dir).Output()
	if err != nil {
		r.t.Fatal(err)
	}
	var kb float64
	fmt.Sscan(string(out), &kb)
	return kb / 1024
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func exitText(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return fmt.Sprintf("%v: %s", err, tail(string(ee.Stderr), 20))
	}
	return err.Error()
}
