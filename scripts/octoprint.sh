#!/usr/bin/env bash
# Creates (once) the Python venv with a real OctoPrint 1.11.x from PyPI that
# the tests and `make demo` run, and prints the path of its octoprint
# command. The venv lives in .cache/octoprint-venv in the repository
# (gitignored); OCTOPRINT_VENV overrides the place. A venv that is only half
# made (an interrupted pip) is made again: the stamp file is written last.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${OCTOPRINT_VENV:-$root/.cache/octoprint-venv}"
want="OctoPrint==1.11.*"
stamp="$venv/.pipcam-ok"
python="${PYTHON:-python3}"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/octoprint" ]; then
	echo "$venv/bin/octoprint"
	exit 0
fi

if ! command -v "$python" >/dev/null; then
	echo "python3 not installed: run make deps (Debian packages python3 python3-venv)" >&2
	exit 1
fi
if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
	echo "python3 venv module missing: run make deps (Debian package python3-venv)" >&2
	exit 1
fi

rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
echo "creating $venv with $want (a minute or two, once)" >&2
"$python" -m venv "$venv" >&2
"$venv/bin/pip" install -q "$want" >&2
"$venv/bin/octoprint" --version >&2
echo "$want" >"$stamp"
echo "$venv/bin/octoprint"
