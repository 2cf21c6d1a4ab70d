#!/usr/bin/env bash
# Builds (once) what the Moonraker tests run, with no printer: Klipper's
# Linux-process MCU for this host, Klippy in a venv, Moonraker 0.11.0 from
# PyPI in another, and an LD_PRELOAD shim that fakes a GPIO chip for the
# MCU's heater pins. Everything lives in .cache/klipper in the repository
# (gitignored; KLIPPER_CACHE overrides the place) and is made again only
# when an input changes (the stamp file is written last).
#
# Klipper's source is in no package registry. It comes from KLIPPER_TARBALL
# (when set, the only place looked at), else
# shared/third_party/klipper-*.tar.xz in a directory above the
# repository (../shared/third_party for a checkout), else a shallow fetch of
# the pinned commit from GitHub. With none of these it exits 3 and says so,
# and the tests skip.
#
# On success it prints the paths the tests need, one key=value a line.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${KLIPPER_CACHE:-$root/.cache/klipper}"
commit=84104bbbd7625d28b4eaaad83f4562972460ecd9
moonraker_want="moonraker==0.11.0"
# What Klippy imports (Klipper's scripts/klippy-requirements.txt, without the
# CAN bus and its pins for old Pythons).
klippy_want="greenlet==3.5.6 cffi==2.1.1 Jinja2==3.1.6 MarkupSafe==3.0.4 pyserial==3.5"
shim_src="$root/scripts/klipper-gpio-shim.c"
python="${PYTHON:-python3}"
stamp="$cache/.pipcam-ok"
want="$commit $moonraker_want $klippy_want $(sha256sum "$shim_src" | cut -c1-16)"

paths() {
	echo "klipper=$cache/src"
	echo "mcu=$cache/src/out/klipper.elf"
	echo "klippy_python=$cache/klippy-venv/bin/python"
	echo "moonraker=$cache/moonraker-venv/bin/moonraker"
	echo "gpio_shim=$cache/gpio-shim.so"
}

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	paths
	exit 0
fi

for tool in gcc make; do
	if ! command -v "$tool" >/dev/null; then
		echo "$tool not installed: run make deps" >&2
		exit 1
	fi
done
if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
	echo "python3 or its venv module missing: run make deps (Debian packages python3 python3-venv)" >&2
	exit 1
fi

# find_tarball prints the Klipper tarball to use, or nothing.
find_tarball() {
	if [ -n "${KLIPPER_TARBALL:-}" ]; then
		if [ -f "$KLIPPER_TARBALL" ]; then echo "$KLIPPER_TARBALL"; fi
		return
	fi
	local dir="$root"
	while [ "$dir" != "/" ]; do
		dir="$(dirname "$dir")"
		for f in "$dir"/shared/third_party/klipper-*.tar.xz; do
			if [ -f "$f" ]; then
				echo "$f"
				return
			fi
		done
	done
}

echo "building Klipper's host MCU, Klippy and Moonraker in $cache (a minute or two, once)" >&2
rm -rf "$cache"
mkdir -p "$cache"
tarball="$(find_tarball)"
if [ -n "$tarball" ]; then
	mkdir -p "$cache/src"
	tar -xJf "$tarball" -C "$cache/src" --strip-components=1
elif command -v git >/dev/null && timeout 60 git init -q "$cache/src" &&
	timeout 120 git -C "$cache/src" fetch -q --depth 1 https://github.com/Klipper3d/klipper.git "$commit" 2>/dev/null &&
	git -C "$cache/src" checkout -q FETCH_HEAD; then
	:
else
	rm -rf "$cache"
	where="no shared/third_party/klipper-*.tar.xz above $root"
	if [ -n "${KLIPPER_TARBALL:-}" ]; then where="KLIPPER_TARBALL $KLIPPER_TARBALL is no file"; fi
	echo "Klipper source not found: $where, and github.com cannot be reached" >&2
	exit 3
fi

# The MCU as a Linux process (out/klipper.elf, a few seconds).
(
	cd "$cache/src"
	echo CONFIG_MACH_LINUX=y >.config
	make -s olddefconfig >&2
	make -s -j"$(nproc)" >&2
)

gcc -shared -fPIC -O2 -Wall -o "$cache/gpio-shim.so" "$shim_src" -ldl

"$python" -m venv "$cache/klippy-venv" >&2
# shellcheck disable=SC2086 # the list is split on purpose
"$cache/klippy-venv/bin/pip" install -q $klippy_want >&2
# Klippy compiles its C helper on first start; do it now, once.
(cd "$cache/src/klippy" && "$cache/klippy-venv/bin/python" -c 'import chelper; chelper.get_ffi()') >&2

"$python" -m venv "$cache/moonraker-venv" >&2
"$cache/moonraker-venv/bin/pip" install -q "$moonraker_want" >&2

echo "$want" >"$stamp"
paths
