#!/usr/bin/env bash
# What `make package` and `make image-test` need on top of scripts/deps.sh:
# cross compilers, debootstrap and qemu-user for the foreign roots, and zig
# (PyPI ziglang, in a venv under .cache) for the ARMv6 build and setuptools
# for the plugin's wheel. Kept apart
# from deps.sh so a plain `make deps` stays lean.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${PIPCAM_CACHE:-$top/.cache}

packages=(
	debootstrap              # the sysroots and the clean install-test roots
	qemu-user-static binfmt-support # run arm64/armhf roots on this machine
	crossbuild-essential-arm64      # gcc for arm64
	binutils                 # readelf: the ARMv6 test
	dpkg-dev                 # dpkg-deb and dpkg-architecture
	python3-venv             # the zig venv; the plugin's wheel
	haproxy                  # the OctoPi module's haproxy.cfg is checked with haproxy -c
	systemd                  # systemd-analyze verify / security
)

if [ "${1:-}" = "--list" ]; then
	printf '%s\n' "${packages[@]}"
	exit 0
fi

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	export DEBIAN_FRONTEND=noninteractive
	echo "installing: ${missing[*]}"
	ok=0
	for attempt in 1 2 3 4 5; do
		$sudo apt-get update -q || echo "apt-get update failed (attempt $attempt); trying the install anyway"
		if $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"; then ok=1; break; fi
		sleep $((attempt * 5))
	done
	[ $ok -eq 1 ] || { echo "could not install: ${missing[*]}" >&2; exit 1; }
fi

# Foreign binaries in the roots run through binfmt_misc.
for q in qemu-aarch64 qemu-arm; do
	[ -e /proc/sys/fs/binfmt_misc/$q ] || ${sudo:-} update-binfmts --enable $q ||
		{ echo "cannot register $q with binfmt_misc (is binfmt_misc mounted?)" >&2; exit 1; }
done

# A venv with zig (the ARMv6 link) and what building the plugin's wheel
# needs, pinned.
pins=(ziglang==0.17.1 setuptools==80.9.0 wheel==0.45.1)
venv=$cache/package-venv
if [ "$(cat "$venv/.pins" 2>/dev/null)" != "${pins[*]}" ]; then
	rm -rf "$venv"
	python3 -m venv "$venv"
	"$venv/bin/pip" install -q --disable-pip-version-check "${pins[@]}"
	echo "${pins[*]}" >"$venv/.pins"
fi
