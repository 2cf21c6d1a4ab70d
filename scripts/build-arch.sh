#!/usr/bin/env bash
# Cross-builds the pipcam binary (cgo, GStreamer) for one Debian architecture.
#
#   scripts/build-arch.sh ARCH OUT VERSION
#
#   amd64  this machine's gcc against this machine's GStreamer (make deps)
#   arm64  crossbuild-essential-arm64's gcc against an arm64 sysroot
#   armhf  ARMv6 hard-float, so it runs on a Pi Zero / Pi 1 as well:
#          Debian's armhf gcc links ARMv7 start files (crt1.o is Thumb-2),
#          so zig cc links against its own glibc 2.36 stubs for an
#          ARM1176 (scripts/zig-cc), with the sysroot's GStreamer .so files
#
# Sysroots are debootstrap roots (scripts/debroot.sh build ARCH).
set -euo pipefail

arch=${1:?usage: build-arch.sh ARCH OUT VERSION}
out=${2:?usage: build-arch.sh ARCH OUT VERSION}
version=${3:?usage: build-arch.sh ARCH OUT VERSION}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

export CGO_ENABLED=1 GOOS=linux
ldflags="-s -w -X main.version=$version"

sysroot_env() { # $1 sysroot, $2 multiarch triplet
	export PKG_CONFIG_SYSROOT_DIR=$1
	export PKG_CONFIG_LIBDIR=$1/usr/lib/$2/pkgconfig:$1/usr/share/pkgconfig
	export CGO_LDFLAGS="-Wl,-rpath-link,$1/usr/lib/$2 -Wl,-rpath-link,$1/lib/$2"
}

case $arch in
amd64)
	export GOARCH=amd64 CC=${CC:-gcc}
	;;
arm64)
	command -v aarch64-linux-gnu-gcc >/dev/null ||
		{ echo "aarch64-linux-gnu-gcc not installed: run scripts/package-deps.sh" >&2; exit 1; }
	s=$(scripts/debroot.sh build arm64)
	sysroot_env "$s" aarch64-linux-gnu
	export GOARCH=arm64 CC="aarch64-linux-gnu-gcc --sysroot=$s"
	;;
armhf)
	s=$(scripts/debroot.sh build armhf)
	sysroot_env "$s" arm-linux-gnueabihf
	export GOARCH=arm GOARM=6 CC="$top/scripts/zig-cc" PIPCAM_SYSROOT=$s
	# zig's linker resolves the libraries' own dependencies itself
	# (it ignores -rpath-link and says so for each one), and keeps the C
	# code's debug information unless told (go's -s does not reach it).
	export CGO_LDFLAGS=
	ldflags="$ldflags -extldflags=-Wl,--strip-debug"
	# zig keeps a cache of its compiled libc stubs; keep it with ours.
	export ZIG_GLOBAL_CACHE_DIR=${PIPCAM_CACHE:-$top/.cache}/zig
	"$top/scripts/zig-cc" --version >/dev/null
	;;
*)
	echo "build-arch.sh: unknown architecture $arch (amd64, arm64 or armhf)" >&2
	exit 2
	;;
esac

mkdir -p "$(dirname "$out")"
go build -trimpath -ldflags "$ldflags" -o "$out" ./cmd/pipcam
echo "$out"
