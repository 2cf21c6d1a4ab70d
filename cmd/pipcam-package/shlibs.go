package main

import (
	"bufio"
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// elfMachine is the ELF machine each Debian architecture's binaries have:
// a binary built for the wrong one is refused before it is packaged.
var elfMachine = map[string]elf.Machine{
	"amd64": elf.EM_X86_64,
	"arm64": elf.EM_AARCH64,
	"armhf": elf.EM_ARM,
}

// sharedLibDepends returns the Depends entries for the shared libraries the
// binary links, e.g. "libgstreamer1.0-0 (>= 1.22.0)", read from the shlibs
// files in root's dpkg database (the root the binary was linked against):
// what dpkg-shlibdeps does, without its symbols-level refinement.
func sharedLibDepends(binary, arch, root string) ([]string, error) {
	f, err := elf.Open(binary)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", binary, err)
	}
	defer f.Close()
	if want, ok := elfMachine[arch]; !ok {
		return nil, fmt.Errorf("unknown architecture %q (amd64, arm64 or armhf)", arch)
	} else if f.Machine != want {
		return nil, fmt.Errorf("%s is built for %s, not %s", binary, f.Machine, arch)
	}
	needed, err := f.ImportedLibraries()
	if err != nil {
		return nil, fmt.Errorf("read the libraries %s needs: %w", binary, err)
	}
	shlibs, err := readShlibs(filepath.Join(root, "var/lib/dpkg/info"), arch)
	if err != nil {
		return nil, err
	}
	var deps, unknown []string
	for _, soname := range needed {
		dep, ok := shlibs[shlibsKey(soname)]
		if !ok {
			unknown = append(unknown, soname)
			continue
		}
		for _, d := range strings.Split(dep, ",") {
			if d = strings.TrimSpace(d); !slices.Contains(deps, d) {
				deps = append(deps, d)
			}
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("%s needs %s, which no shlibs file in %s names (is the package that ships it installed there?)",
			binary, strings.Join(unknown, ", "), root)
	}
	slices.Sort(deps)
	return deps, nil
}

// shlibsKey turns a soname into the "name version" a shlibs line starts
// with: libgstreamer-1.0.so.0 → "libgstreamer-1.0 0", libfoo-2.so → "libfoo 2".
func shlibsKey(soname string) string {
	if name, ver, ok := strings.Cut(soname, ".so."); ok {
		return name + " " + ver
	}
	name := strings.TrimSuffix(soname, ".so")
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		return name[:i] + " " + name[i+1:]
	}
	return name
}

// readShlibs reads the *.shlibs files of a dpkg database for one
// architecture into "name version" → dependency. Another architecture's
// files (pkg:arm64.shlibs on an amd64 build machine) and entries that name
// an architecture-qualified package (a cross toolchain's libc6:arm64) are
// not this architecture's libraries and are skipped, as are udeb lines.
func readShlibs(infoDir, arch string) (map[string]string, error) {
	paths, err := filepath.Glob(filepath.Join(infoDir, "*.shlibs"))
	if err != nil || len(paths) == 0 {
		return nil, fmt.Errorf("no shlibs files in %s: is it a Debian root with the libraries installed?", infoDir)
	}
	out := map[string]string{}
	for _, p := range paths {
		pkg := strings.TrimSuffix(filepath.Base(p), ".shlibs")
		if _, a, ok := strings.Cut(pkg, ":"); ok && a != arch {
			continue
		}
		if err := parseShlibs(p, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func parseShlibs(path string, out map[string]string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read shlibs: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if first, _, _ := strings.Cut(line, " "); strings.HasSuffix(first, ":") {
			continue // "udeb: libfoo 1 libfoo-udeb"
		}
		fields := strings.Fields(line)
		if len(fields) < 3 {
			continue
		}
		dep := strings.Join(fields[2:], " ")
		if strings.Contains(depName(dep), ":") {
			continue // libc6:arm64 from libc6-arm64-cross
		}
		key := fields[0] + " " + fields[1]
		if _, seen := out[key]; !seen {
			out[key] = dep
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}
