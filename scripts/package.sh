#!/usr/bin/env bash
# Builds pipcam's .deb for every Pi and for PCs into dist/:
#   dist/pipcam_<version>_{amd64,arm64,armhf}.deb
# (PIPCAM_ARCHS="arm64" for fewer.) The version is `git describe` (VERSION
# overrides it); `pipcam version` prints the same. See README, Packaging.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
cache=${PIPCAM_CACHE:-$top/.cache}
archs=${PIPCAM_ARCHS:-amd64 arm64 armhf}
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
# File times in the packages: the commit's, so a rebuild gives the same files.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
dist=${PIPCAM_DIST:-$top/dist}

scripts/package-deps.sh

# The OctoPrint plugin, once for all architectures (pure Python).
wheels=$(mktemp -d)
trap 'rm -rf "$wheels"' EXIT
"$cache/package-venv/bin/pip" wheel --quiet --disable-pip-version-check --no-deps \
	--no-build-isolation -w "$wheels" image/octoprint_pipcam
wheel=$(ls "$wheels"/*.whl)

go build -o bin/pipcam-package ./cmd/pipcam-package
mkdir -p "$dist"
# What `pipcam version` prints in these packages (the install tests check it).
echo "$version" >"$dist/VERSION"
for arch in $archs; do
	start=$(date +%s)
	bin=bin/$arch/pipcam
	scripts/build-arch.sh "$arch" "$bin" "$version" >/dev/null
	root=/
	[ "$arch" = amd64 ] || root=$(scripts/debroot.sh build "$arch")
	deb=$(bin/pipcam-package -arch "$arch" -binary "$bin" -root "$root" -version "$version" \
		-wheel "$wheel" -mtime "$SOURCE_DATE_EPOCH" -out "$dist")
	echo "$deb ($(du -k "$deb" | cut -f1) kB, $(($(date +%s) - start)) s)"
done
