#!/usr/bin/env bash
# make demo: pipcam with a moving printer status. It starts a real
# OctoPrint 1.11 (PyPI venv, made once by scripts/octoprint.sh) whose
# virtual printer prints in a loop, points a temporary pipcam config at it
# and runs bin/pipcam. Where OctoPrint cannot be installed it says why and
# runs pipcam on the built-in defaults (the overlay shows "pipcam").
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${PIPCAM_BIN:-bin/pipcam}
tmp=$(mktemp -d)
printer_pid=""
cleanup() {
	if [ -n "$printer_pid" ] && kill -0 "$printer_pid" 2>/dev/null; then
		kill "$printer_pid" # it stops its OctoPrint
		wait "$printer_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "starting a real OctoPrint with a virtual printer (the first time installs it: a minute or two)..."
why=""
if ! go build -o "$tmp/demoprinter" ./internal/octoprinttest/demoprinter 2>"$tmp/build.log"; then
	why="could not build the demo printer: $(tail -n 3 "$tmp/build.log")"
else
	"$tmp/demoprinter" -print "${DEMO_PRINT_TIME:-3m}" >"$tmp/printer.env" 2>"$tmp/printer.log" &
	printer_pid=$!
	# Up to 10 minutes: the first run installs OctoPrint.
	for _ in $(seq 1 1200); do
		if grep -q '^OCTOPRINT_API_KEY=' "$tmp/printer.env"; then
			break
		fi
		if ! kill -0 "$printer_pid" 2>/dev/null; then
			why="OctoPrint could not be started: $(tail -n 5 "$tmp/printer.log")"
			printer_pid=""
			break
		fi
		sleep 0.5
	done
	if [ -z "$why" ] && ! grep -q '^OCTOPRINT_API_KEY=' "$tmp/printer.env"; then
		why="OctoPrint did not start within 10 minutes"
	fi
fi

if [ -n "$why" ]; then
	echo "no printer for the demo: $why" >&2
	echo "running pipcam on the built-in defaults instead."
	"$bin" run
	exit $?
fi

url=$(sed -n 's/^OCTOPRINT_URL=//p' "$tmp/printer.env")
# The key goes by environment, as a real install may do, not in the file.
PIPCAM_PRINTER_API_KEY=$(sed -n 's/^OCTOPRINT_API_KEY=//p' "$tmp/printer.env")
export PIPCAM_PRINTER_API_KEY
cat >"$tmp/pipcam.yaml" <<YAML
# written by scripts/demo.sh
printer:
  type: octoprint
  url: $url
YAML
echo "OctoPrint (virtual printer, printing in a loop): $url"
"$bin" check-config -config "$tmp/pipcam.yaml" >/dev/null
"$bin" run -config "$tmp/pipcam.yaml"
