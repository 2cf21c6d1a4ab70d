# pipcam: `make demo` runs it on built-in defaults, `make test` runs the tests.
# Both install what is missing first (Debian / Raspberry Pi OS packages).

GO          ?= go
BIN         := bin/pipcam
VERSION     ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -X main.version=$(VERSION)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Long enough for the real-stack suites on a 2-core machine, short of CI's limit.
TEST_TIMEOUT ?= 25m

.PHONY: all deps build demo test lint bench fuzz clean package image-test

all: build

deps:
	@scripts/deps.sh

build: deps
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/pipcam

# Two test-pattern cameras, picture-in-picture, HTTP on :8080, FLV on :7272,
# and a real OctoPrint whose virtual printer prints in a loop, so the overlay
# shows a moving status (scripts/demo.sh; without OctoPrint: the defaults).
demo: build
	@echo "pipcam demo; Ctrl-C stops it."
	@echo "  WHEP:   http://localhost:8080/whep   (Mainsail/Fluidd: WebRTC (MediaMTX), URL http://HOST:8080/)"
	@echo "  status: http://localhost:8080/api/status"
	@echo "  VLC:    vlc tcp://localhost:7272"
	@PIPCAM_BIN=./$(BIN) scripts/demo.sh

test: deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...
	# The concurrent parts again under the race detector.
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./signaling/... ./internal/... ./compositor/... ./overlay/...

lint: deps
	$(GO) vet ./...
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt wants changes in:"; echo "$$out"; exit 1; fi
	$(GO) run $(STATICCHECK) ./...

# Prints the figures: bitrate, fps, time to first keyframe, CPU and RSS of the
# daemon with 1 and with 50 WebRTC viewers; then the Go benchmarks of the
# per-packet code (reading a viewer's feedback).
bench: build
	$(GO) run ./cmd/pipcam-bench -pipcam $(BIN)
	$(GO) test -run '^$$' -bench . ./signaling/congestion/

# A short run of every fuzz target (go test runs their seed corpora anyway).
fuzz: deps
	@for pkg in ./configs ./signaling ./signaling/congestion ./overlay; do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 20s $$pkg || exit 1; \
		done; \
	done

# .deb packages for arm64, armhf (ARMv6 hard-float: every Pi) and amd64 in
# dist/, cross-built with cgo against debootstrap sysroots cached in .cache/
# (scripts/package.sh; README, Packaging).
package: deps
	@VERSION=$(VERSION) scripts/package.sh

# Installs those packages in clean debootstrap bookworm roots (arm64 under
# qemu-user) and runs them there, checks the ARMv6 build and runs the OctoPi
# CustomPiOS module against OctoPi's files. Needs root.
image-test: package
	$(GO) vet -tags imagetest ./image/installtest/
	$(GO) test -tags imagetest -count=1 -p 1 -v -timeout 60m ./image/installtest/

clean:
	rm -rf bin
