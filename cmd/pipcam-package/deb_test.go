package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pipcam/pipcam/compositor"
)

// selfBinary is this test binary, which links GStreamer through compositor
// (cgo) like pipcam, and its Debian architecture: the tests package it
// against this machine's own dpkg database.
func selfBinary(t *testing.T) (path, debArch string) {
	t.Helper()
	arch, ok := map[string]string{"amd64": "amd64", "arm64": "arm64", "arm": "armhf"}[runtime.GOARCH]
	if !ok {
		t.Fatalf("pipcam is not packaged for %s", runtime.GOARCH)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return self, arch
}

func TestShlibsKey(t *testing.T) {
	for soname, want := range map[string]string{
		"libgstreamer-1.0.so.0": "libgstreamer-1.0 0",
		"libc.so.6":             "libc 6",
		"ld-linux-armhf.so.3":   "ld-linux-armhf 3",
		"libfoo-2.so":           "libfoo 2",
	} {
		if got := shlibsKey(soname); got != want {
			t.Errorf("shlibsKey(%q) = %q, want %q", soname, got, want)
		}
	}
}

// The test binary's dependencies come from this machine's dpkg database,
// never from a cross toolchain's arch-qualified libc6:arm64, and a binary
// of another architecture is refused.
func TestSharedLibDependsOfACgoBinary(t *testing.T) {
	self, arch := selfBinary(t)
	deps, err := sharedLibDepends(self, arch, "/")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"libc6 (>= ", "libgstreamer1.0-0 (>= 1.22", "libglib2.0-0 (>= "} {
		if !slices.ContainsFunc(deps, func(d string) bool { return strings.HasPrefix(d, want) }) {
			t.Errorf("depends %q lacks %s…", deps, want)
		}
	}
	for _, d := range deps {
		if strings.Contains(depName(d), ":") {
			t.Errorf("arch-qualified dependency %q", d)
		}
	}
	other := "arm64"
	if arch == other {
		other = "amd64"
	}
	if _, err := sharedLibDepends(self, other, "/"); err == nil || !strings.Contains(err.Error(), "not "+other) {
		t.Errorf("a %s binary packaged as %s: err = %v", arch, other, err)
	}
}

// A .deb built from the test binary, checked with dpkg-deb: the control
// fields, the conffile, the files and their modes, the maintainer scripts.
func TestDebContents(t *testing.T) {
	self, arch := selfBinary(t)
	dir := t.TempDir()
	wheel := filepath.Join(dir, "octoprint_pipcam-0.1.0-py3-none-any.whl")
	if err := os.WriteFile(wheel, []byte("PK"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := build{Top: "../..", Binary: self, Arch: arch, Version: "v1.2.0-3-gabc1234", Root: "/", Wheel: wheel, MTime: time.Unix(1700000000, 0)}
	deb, err := b.write(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "pipcam_1.2.0+3.gabc1234_"+arch+".deb"); deb != want {
		t.Errorf("written to %s, want %s", deb, want)
	}
	field := func(name string) string {
		out, err := exec.Command("dpkg-deb", "-f", deb, name).Output()
		if err != nil {
			t.Fatalf("dpkg-deb -f %s: %v (dpkg-deb not installed? run scripts/package-deps.sh)", name, err)
		}
		return strings.TrimSpace(string(out))
	}
	if got := field("Package") + " " + field("Version") + " " + field("Architecture"); got != "pipcam 1.2.0+3.gabc1234 "+arch {
		t.Errorf("package, version, architecture: %q", got)
	}
	depends := strings.Split(field("Depends"), ", ")
	for _, p := range compositor.RuntimePackages() {
		if !slices.ContainsFunc(depends, func(d string) bool { return depName(d) == p }) {
			t.Errorf("Depends %q lacks %s (compositor.RuntimePackages)", depends, p)
		}
	}
	if !slices.ContainsFunc(depends, func(d string) bool { return strings.HasPrefix(d, "libgstreamer1.0-0 (>= ") }) {
		t.Errorf("Depends %q lacks the versioned GStreamer library", depends)
	}

	ctrl := filepath.Join(dir, "control")
	if out, err := exec.Command("dpkg-deb", "-e", deb, ctrl).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -e: %v: %s", err, out)
	}
	conffiles, _ := os.ReadFile(filepath.Join(ctrl, "conffiles"))
	if strings.TrimSpace(string(conffiles)) != "/etc/pipcam/pipcam.yaml" {
		t.Errorf("conffiles = %q", conffiles)
	}
	for _, s := range []string{"preinst", "postinst", "prerm", "postrm"} {
		if st, err := os.Stat(filepath.Join(ctrl, s)); err != nil || st.Mode()&0o111 == 0 {
			t.Errorf("maintainer script %s: %v", s, err)
		}
	}

	out, err := exec.Command("dpkg-deb", "-c", deb).Output()
	if err != nil {
		t.Fatal(err)
	}
	listing := string(out)
	for _, want := range []string{
		"-rwxr-xr-x root/root", "./usr/bin/pipcam",
		"-rw-r----- root/pipcam", "./etc/pipcam/pipcam.yaml",
		"./lib/systemd/system/pipcam.service",
		"./usr/share/pipcam/octoprint_pipcam-0.1.0-py3-none-any.whl",
		"./usr/share/doc/pipcam/README.Debian",
		"-rwxr-xr-x root/root", "./usr/share/pipcam/octopi-setup",
	} {
		if !strings.Contains(listing, want) {
			t.Errorf("package listing lacks %q:\n%s", want, listing)
		}
	}
}
