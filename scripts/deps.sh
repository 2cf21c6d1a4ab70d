#!/usr/bin/env bash
# Installs the Debian / Raspberry Pi OS packages pipcam needs to build, run
# and test. Only what is missing is installed; apt-get update is retried
# because a mirror can be mid-sync ("File has unexpected size").
set -euo pipefail

packages=(
	pkg-config gcc
	libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
	# The runtime packages of every element the graph uses (compositor's
	# elementPackages; a test keeps this list in step with it).
	libgstreamer1.0-0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good
	gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-x
	gstreamer1.0-tools # gst-launch-1.0 and gst-inspect-1.0, used by tests
	ffmpeg # ffprobe/ffmpeg: the tests' real FLV and H.264 clients
	haproxy  # signaling tests: OctoPi's /webcam/ proxy in front of pipcam
	chromium # signaling tests: a real browser viewer (headless)
	iproute2 nftables # the weak-link test and bench: namespaces, tc tbf, random loss
)

# --list prints the packages, one a line, and installs nothing.
if [ "${1:-}" = "--list" ]; then
	printf '%s\n' "${packages[@]}"
	exit 0
fi

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done

if ((${#missing[@]})); then
	sudo=""
	if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
	export DEBIAN_FRONTEND=noninteractive
	echo "installing: ${missing[*]}"
	installed=0
	for attempt in 1 2 3 4 5; do
		$sudo apt-get update -q || echo "apt-get update failed (attempt $attempt); trying the install anyway"
		if $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"; then
			installed=1
			break
		fi
		sleep $((attempt * 5))
	done
	if [ "$installed" -ne 1 ]; then
		echo "could not install: ${missing[*]}" >&2
		exit 1
	fi
fi

# Go: Debian 12's own golang is too old; pipcam needs the version in go.mod.
if ! command -v go >/dev/null; then
	echo "Go is not installed: pipcam needs Go $(sed -n 's/^go //p' "$(dirname "$0")/../go.mod") or newer (https://go.dev/doc/install)" >&2
	exit 1
fi
