package configs

import (
	"fmt"
	"path/filepath"
	"strings"
)

// DefaultTokenFile is where the control token made at first start is kept.
const DefaultTokenFile TokenFile = "/var/lib/pipcam/token"

// TokenFile is the file that holds the control token when http.token is not
// set: an absolute path, or "" for no generated token.
type TokenFile string

func (f TokenFile) check() error {
	s := string(f)
	switch {
	case s == "":
		return nil
	case len(s) > 1024:
		return fmt.Errorf("path is %d bytes long, at most 1024", len(s))
	case strings.ContainsAny(s, "\x00\n\r"):
		return fmt.Errorf("path contains a control character")
	case !filepath.IsAbs(s):
		return fmt.Errorf("%q must be an absolute path (or \"\" for no generated token)", s)
	case strings.HasSuffix(s, "/"):
		return fmt.Errorf("%q names a directory; give the file, such as %s", s, DefaultTokenFile)
	}
	return nil
}
