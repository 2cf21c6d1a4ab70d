//go:build imagetest

package installtest

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The armhf package runs on every 32-bit Raspberry Pi OS, the ARMv6 Pi Zero
// and Pi 1 included: its pipcam is built for an ARM1176 (no ARMv7
// instruction anywhere: the attribute is the highest of all linked code)
// with hard-float calling. No ARM1176 can run here (qemu's arm1176 dies in
// Debian's own ARMv7 libraries), so the ELF attributes are the test.
func TestArmhfIsARMv6HardFloat(t *testing.T) {
	need(t, "readelf", "dpkg-deb")
	dir := t.TempDir()
	if out, err := exec.Command("dpkg-deb", "-x", packageFor(t, "armhf"), dir).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -x: %v: %s", err, out)
	}
	bin := filepath.Join(dir, "usr", "bin", "pipcam")
	readelf := func(flag string) string {
		out, err := exec.Command("readelf", flag, bin).Output()
		if err != nil {
			t.Fatalf("readelf %s: %v", flag, err)
		}
		return string(out)
	}
	attrs := readelf("-A")
	for _, want := range []string{
		"Tag_CPU_arch: v6\n",
		"Tag_THUMB_ISA_use: Thumb-1", // Thumb-2 would be ARMv7
		"Tag_FP_arch: VFPv2",         // the ARM1176's floating point unit
	} {
		if !strings.Contains(attrs, want) {
			t.Errorf("readelf -A lacks %q:\n%s", want, attrs)
		}
	}
	if h := readelf("-h"); !strings.Contains(h, "hard-float ABI") || !strings.Contains(h, "Machine:                           ARM") {
		t.Errorf("readelf -h: want an ARM hard-float binary:\n%s", h)
	}
	if l := readelf("-l"); !strings.Contains(l, "/lib/ld-linux-armhf.so.3") {
		t.Errorf("the interpreter is not armhf's /lib/ld-linux-armhf.so.3:\n%s", l)
	}
}
