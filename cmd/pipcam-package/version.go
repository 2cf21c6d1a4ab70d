package main

import (
	"fmt"
	"regexp"
	"strings"
)

// describeRE is `git describe --tags --always --dirty`: just the commit
// (tried first: an abbreviated hash may start with a digit, like a tag), or a
// tag with the commits since it and the commit; maybe "-dirty".
var describeRE = regexp.MustCompile(`^(?:([0-9a-f]{7,40})|v?(\d[0-9A-Za-z.+~-]*?)(?:-(\d+)-g([0-9a-f]+))?)(-dirty)?$`)

// debVersion turns what `git describe` prints (also `pipcam version`) into a
// Debian version that sorts the way the builds were made:
//
//	v1.2.0              1.2.0
//	v1.2.0-3-gabc1234   1.2.0+3.gabc1234   (after 1.2.0, before 1.2.1)
//	v1.2.0-rc1          1.2.0~rc1          (before 1.2.0)
//	abc1234             0.0.0+gabc1234     (no tag yet)
//	... -dirty          ... .dirty
func debVersion(describe string) (string, error) {
	m := describeRE.FindStringSubmatch(strings.TrimSpace(describe))
	if m == nil {
		return "", fmt.Errorf("version %q: not what git describe prints (v1.2.0, v1.2.0-3-gabc1234, abc1234, each maybe -dirty)", describe)
	}
	// "-" would start a Debian revision; "~" sorts a pre-release first.
	bare, tag, ahead, commit, dirty := m[1], strings.ReplaceAll(m[2], "-", "~"), m[3], m[4], m[5]
	var v string
	switch {
	case bare != "":
		v = "0.0.0+g" + bare
	case ahead != "":
		v = tag + "+" + ahead + ".g" + commit
	default:
		v = tag
	}
	if dirty != "" {
		if strings.Contains(v, "+") {
			v += ".dirty"
		} else {
			v += "+dirty"
		}
	}
	return v, nil
}
