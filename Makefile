# Shoal build, run and test entry points. `make run` and `make test` work on a fresh Debian
# machine with Go: test dependencies (nginx, iproute2) are installed with apt-get when missing.
GO        ?= go
PKGS      ?= ./...
TESTFLAGS ?= -race -timeout 20m
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: run build test test-deps vet fmt bench bench-edge clean

run:
	$(GO) run ./cmd/shoal demo

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/shoal ./cmd/shoal

test: test-deps
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) test $(TESTFLAGS) $(PKGS)

test-deps:
	@scripts/test-deps.sh

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

# Go micro-benchmarks of the hot paths, then the edge against nginx proxy_cache.
bench: bench-edge
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2000x ./edge/... ./cachestore/ ./ring/... ./origin/...

bench-edge: build
	@scripts/bench-edge.sh

clean:
	rm -rf bin
