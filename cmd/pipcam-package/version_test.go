package main

import (
	"os/exec"
	"testing"
)

func TestDebVersion(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"v1.2.0", "1.2.0"},
		{"1.2.0", "1.2.0"},
		{"v1.2.0-3-gabc1234", "1.2.0+3.gabc1234"},
		{"v1.2.0-rc1", "1.2.0~rc1"},
		{"v1.2.0-rc1-2-gabc1234", "1.2.0~rc1+2.gabc1234"},
		{"v1.2.0-dirty", "1.2.0+dirty"},
		{"v1.2.0-3-gabc1234-dirty", "1.2.0+3.gabc1234.dirty"},
		{"f455a92", "0.0.0+gf455a92"},
		{"f455a92-dirty", "0.0.0+gf455a92.dirty"},
		{"31b88a6-dirty", "0.0.0+g31b88a6.dirty"}, // a hash starting with a digit is no tag
		{"1234567", "0.0.0+g1234567"},
	} {
		got, err := debVersion(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("debVersion(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "dev", "v", "release 1", "v1.0;rm -rf", "xyz"} {
		if got, err := debVersion(bad); err == nil {
			t.Errorf("debVersion(%q) = %q, want an error", bad, got)
		}
	}
}

// The versions must sort as the builds were made: dpkg itself says so.
func TestDebVersionsSortInBuildOrder(t *testing.T) {
	order := []string{"f455a92", "v0.1.0-rc1", "v0.1.0", "v0.1.0-1-gabc1234", "v0.1.0-1-gabc1234-dirty", "v0.1.0-12-gdef5678", "v0.1.1"}
	for i := 1; i < len(order); i++ {
		a, _ := debVersion(order[i-1])
		b, _ := debVersion(order[i])
		if err := exec.Command("dpkg", "--compare-versions", a, "lt", b).Run(); err != nil {
			t.Errorf("dpkg does not sort %s (%s) before %s (%s): %v", a, order[i-1], b, order[i], err)
		}
	}
}
