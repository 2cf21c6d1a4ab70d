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
	gstreamer1.0-libav # avdec_h264: RTSP cameras' H.264
	gstreamer1.0-tools # gst-launch-1.0 and gst-inspect-1.0, used by tests
	ffmpeg # ffprobe/ffmpeg: the tests' real FLV and H.264 clients
	haproxy  # signaling tests: OctoPi's /webcam/ proxy in front of pipcam
	chromium # signaling tests: a real browser viewer (headless)
	tesseract-ocr tesseract-ocr-eng # e2e tests read the overlay back out of the picture
	python3 python3-venv # a real OctoPrint from PyPI for the overlay tests and make demo
	# A real RTSP server for the IP camera tests (GStreamer's, from Python).
	gir1.2-gst-rtsp-server-1.0 python3-gi
	# A real RTMP server for the push tests (nginx-rtmp on loopback).
	nginx libnginx-mod-rtmp
	# Klipper's host MCU built from source, Klippy and Moonraker (scripts/moonraker.sh)
	make xz-utils libsodium23 # libsodium: Moonraker's libnacl loads it
	iproute2 nftables # the weak-link test and bench: namespaces, tc tbf, random loss
	ethtool # the browser loss test: loopback cuts GSO messages before netfilter sees them
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

# OctoPrint 1.11 in a cached venv (.cache/octoprint-venv) for the overlay
# tests and make demo. Not fatal here: without PyPI the tests that need it
# fail and say why.
if ! "$(dirname "$0")/octoprint.sh" >/dev/null; then
	echo "warning: the OctoPrint venv could not be made (see above); the OctoPrint tests will fail" >&2
fi

# Klipper (its host MCU, Klippy) and Moonraker 0.11.0 in .cache/klipper for
# the Moonraker tests. Not fatal either: without Klipper's source the tests
# skip and say why; without PyPI they fail and say why.
if ! "$(dirname "$0")/moonraker.sh" >/dev/null; then
	echo "warning: Klipper and Moonraker could not be built (see above); the Moonraker tests will skip or fail" >&2
fi
