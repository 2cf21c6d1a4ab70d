#!/usr/bin/env bash
# Makes a Debian bookworm root with debootstrap, once, and prints its path.
#
#   scripts/debroot.sh build ARCH   a sysroot to cross-build pipcam against
#                                   (GStreamer headers, .so files, pkg-config)
#   scripts/debroot.sh base ARCH    a clean root for the install tests: what a
#                                   Raspberry Pi OS / Debian system starts with
#                                   (minbase + systemd), nothing of pipcam's
#
# Roots are cached under .cache/debroot/KIND-ARCH (gitignored; PIPCAM_CACHE
# moves .cache) and made again only when what they are made of changes
# (the stamp below). Foreign architectures need qemu-user-static and
# binfmt-support (scripts/package-deps.sh).
# PIPCAM_DEBIAN_MIRROR overrides the mirror (default: the one apt uses here).
set -euo pipefail

kind=${1:?usage: debroot.sh build|base ARCH}
arch=${2:?usage: debroot.sh build|base ARCH}
top=$(cd "$(dirname "$0")/.." && pwd)

case $kind in
build) include=libgstreamer1.0-dev,libgstreamer-plugins-base1.0-dev,pkg-config ;;
base) include=systemd ;;
*) echo "debroot.sh: unknown kind $kind (build or base)" >&2; exit 2 ;;
esac

# The Debian mirror this machine's apt uses, so roots match its packages.
mirror() {
	if [ -n "${PIPCAM_DEBIAN_MIRROR:-}" ]; then echo "$PIPCAM_DEBIAN_MIRROR"; return; fi
	local m
	m=$(grep -hsE '^(URIs:|deb) ' /etc/apt/sources.list /etc/apt/sources.list.d/* |
		grep -oE 'https?://[^ ]+/debian/?( |$)' | head -n1 | tr -d ' ')
	echo "${m:-http://deb.debian.org/debian}"
}

dir=${PIPCAM_CACHE:-$top/.cache}/debroot/$kind-$arch
# Bump the last word when a root must be made again for another reason.
stamp="bookworm $arch minbase $include 1"
if [ -f "$dir/.pipcam-debroot" ] && [ "$(cat "$dir/.pipcam-debroot")" = "$stamp" ]; then
	echo "$dir"
	exit 0
fi

for tool in debootstrap; do
	command -v $tool >/dev/null || { echo "$tool not installed: run scripts/package-deps.sh" >&2; exit 1; }
done
if [ "$arch" != "$(dpkg --print-architecture)" ]; then
	qemu=$(case $arch in arm64) echo qemu-aarch64 ;; armhf | armel) echo qemu-arm ;; *) echo "qemu-$arch" ;; esac)
	if [ ! -e "/proc/sys/fs/binfmt_misc/$qemu" ]; then
		update-binfmts --enable "$qemu" >/dev/null 2>&1 ||
			{ echo "$qemu binfmt not registered: install qemu-user-static binfmt-support (scripts/package-deps.sh)" >&2; exit 1; }
	fi
fi

# A debootstrap cut off mid-way (a killed CI run, a restarted machine)
# leaves its /proc, /sys or /dev mounted inside the root, and rm cannot
# remove those: unmount whatever lies under a root before removing it.
unmount_under() {
	local m
	# Deepest first; mountinfo's 5th field is the mount point.
	for m in $(awk -v d="$1/" 'index($5 "/", d) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
}
clear_root() {
	unmount_under "$1"
	rm -rf "$1"
}

clear_root "$dir"
clear_root "$dir.tmp"
mkdir -p "$(dirname "$dir")"
log=$dir.log
echo "debootstrap $kind root for $arch into $dir (log: $log)" >&2
# A mirror mid-sync can fail one download: try again a few times.
for attempt in 1 2 3; do
	if debootstrap --arch="$arch" --variant=minbase --include="$include" \
		bookworm "$dir.tmp" "$(mirror)" >"$log" 2>&1; then
		break
	fi
	echo "debootstrap attempt $attempt failed (tail of $log):" >&2
	tail -n 5 "$log" >&2
	clear_root "$dir.tmp"
	if [ $attempt -eq 3 ]; then exit 1; fi
	sleep $((attempt * 10))
done
# apt inside the root fetches from the same mirror.
rm -rf "$dir.tmp/var/cache/apt/archives/"*.deb
echo "$stamp" >"$dir.tmp/.pipcam-debroot"
mv "$dir.tmp" "$dir"
echo "$dir"
