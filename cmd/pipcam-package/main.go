// Command pipcam-package builds pipcam's .deb for one architecture with nfpm:
// the binary, the config as a conffile, the systemd unit, the OctoPrint
// plugin's wheel and the maintainer scripts from image/debian, and a
// Depends made from the libraries the binary links and compositor's list of
// GStreamer packages. scripts/package.sh runs it for every architecture.
//
//	pipcam-package -arch arm64 -binary bin/pipcam-arm64 -root SYSROOT \
//	    -version "$(git describe --tags --always --dirty)" -wheel W.whl -out dist
//	pipcam-package -print-depends   the GStreamer packages, one a line
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/pipcam/pipcam/compositor"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pipcam-package", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var b build
	var out string
	var mtime int64
	printDepends := fs.Bool("print-depends", false, "print the GStreamer packages the .deb depends on and exit")
	fs.StringVar(&b.Arch, "arch", "", "Debian architecture: amd64, arm64 or armhf")
	fs.StringVar(&b.Binary, "binary", "", "pipcam built for -arch")
	fs.StringVar(&b.Root, "root", "/", "the root the binary was linked against (its dpkg database)")
	fs.StringVar(&b.Version, "version", "", "what git describe prints")
	fs.StringVar(&b.Wheel, "wheel", "", "the OctoPrint plugin's wheel")
	fs.StringVar(&b.Top, "top", ".", "the repository's top directory")
	fs.StringVar(&out, "out", "dist", "directory the .deb is written to")
	fs.Int64Var(&mtime, "mtime", 0, "file times in the package, Unix seconds (the commit's time)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *printDepends {
		for _, p := range compositor.RuntimePackages() {
			fmt.Fprintln(stdout, p)
		}
		return 0
	}
	if b.Arch == "" || b.Binary == "" || b.Version == "" || b.Wheel == "" {
		fmt.Fprintln(stderr, "pipcam-package: -arch, -binary, -version and -wheel are needed")
		return 2
	}
	b.MTime = time.Unix(mtime, 0).UTC()
	if err := os.MkdirAll(out, 0o755); err != nil {
		fmt.Fprintln(stderr, "pipcam-package:", err)
		return 1
	}
	path, err := b.write(out)
	if err != nil {
		fmt.Fprintln(stderr, "pipcam-package:", err)
		return 1
	}
	fmt.Fprintln(stdout, path)
	return 0
}
