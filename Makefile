# Shoal build, run and test entry points. `make run` and `make test` work on a fresh Debian
# machine with Go: test dependencies (nginx, iproute2) are installed with apt-get when missing.
GO        ?= go
PKGS      ?= ./...
TESTFLAGS ?= -race -count=1 -timeout 20m
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: run build test test-vip test-deps vet lint fmt bench bench-h2 bench-micro bench-hitratio bench-peers bench-edge bench-memory bench-disk bench-disk-peers bench-disk-warm bench-disk-rows h2spec clean

run:
	$(GO) run ./cmd/shoal demo

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/shoal ./cmd/shoal

test: test-deps
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) test $(TESTFLAGS) $(PKGS)
	$(GO) test -count=1 -run '$(ALLOCTESTS)' ./edge/ ./cachestore/ ./origin/

# Tests that count allocations or heap skip themselves under -race (the detector allocates):
# make test runs them once more without it, so an allocation added to a hot path fails CI.
ALLOCTESTS ?= AllocatesNothing|allocateNothing|AllocateNoTemplates|DoesNotAllocate|RulesAllocateNothing|BorrowsWhatLivesOnlyForDo|KeepsTheOrderOfAFieldsLines|BudgetBoundsHeap|IndexFollowsEvictions

# The VIP takeover figures of issue 20: ten SIGKILLs of the holder (median and worst time to
# the client's first good response), then 60 s of CPU starvation and 60 s of 20% packet loss
# without a false takeover, and a partition (make test runs one kill and 2 s phases).
test-vip: test-deps
	SHOAL_VIP_KILL_RUNS=10 SHOAL_VIP_CHAOS_SECONDS=60 $(GO) test -count=1 -timeout 15m -v -run 'TestVIP_' ./cmd/shoal/

test-deps:
	@scripts/test-deps.sh

vet:
	$(GO) vet $(PKGS)

# staticcheck (a Go module, installed with go install when missing): unused code, dead
# assignments, API misuse. Clean at the time of writing.
lint: vet
	@command -v staticcheck >/dev/null || [ -x "$$($(GO) env GOPATH)/bin/staticcheck" ] || $(GO) install honnef.co/go/tools/cmd/staticcheck@latest
	@PATH="$$PATH:$$($(GO) env GOPATH)/bin" staticcheck $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

# Whole-system numbers next to Varnish, nginx and HAProxy, then the Go benchmarks. Numbers
# are printed (and written under bench-results/), never asserted.
bench: bench-peers bench-h2 bench-micro bench-hitratio bench-disk-rows

# Shoal, Varnish, nginx proxy_cache and HAProxy on one origin, servers on core 0, load on core 1:
# req/s with wrk, then latency at a fixed rate (open loop) with the loadtest library.
bench-peers: build
	@scripts/bench/run.sh

# HTTP/2 over TLS, Shoal next to nginx proxy_cache and HAProxy (h2load; hits of 1 KiB and
# 16 KiB, 1 and 10 streams per connection).
bench-h2: build
	@scripts/bench-h2.sh

# Go benchmarks of the hot paths (BENCHTIME=100x for a quick look).
BENCHTIME ?= 2000x
bench-micro:
	$(GO) test -run '^$$' -bench . -skip HitRatio -benchmem -benchtime $(BENCHTIME) ./edge/... ./cachestore/... ./ring/... ./origin/... ./gslb/ ./purge/ ./loadtest/

# Hit ratio of a sharded ring vs independent caches vs one big cache on a Zipf workload.
bench-hitratio:
	$(GO) test -run '^$$' -bench HitRatio -benchtime 1x ./edge/

# Hits and misses of 1 KiB objects, Shoal next to nginx proxy_cache only (quick).
bench-edge: build
	@scripts/bench-edge.sh

# Process RSS against cache.memory with many 1 KiB objects.
bench-memory: build
	@scripts/measure-memory.sh

# The disk tier's Get (ReadAt and sendfile) and Put, on tmpfs and on the real disk.
bench-disk:
	@scripts/bench-disk.sh

# Disk hits of 256 KiB and 1 MiB at 4x cache.memory, Shoal next to nginx proxy_cache, over
# HTTP/1.1, HTTP/2 over TLS and h2c (PROTOS), on tmpfs and the real disk (DISKS).
bench-disk-peers:
	@scripts/bench-disk-peers.sh

# Restart to warm: time until 95% of pre-restart hits are hits again, Shoal (SIGTERM, SIGKILL) next to nginx proxy_cache.
bench-disk-warm:
	@scripts/bench-disk-warm.sh

# The disk rows of make bench (two to four minutes here): disk hits next to nginx (HTTP/1.1, h2,
# h2c), the Zipf hit ratio of memory plus disk against memory alone, restart to warm; a
# summary of ratios at the end.
bench-disk-rows:
	@scripts/bench-disk-rows.sh

# HTTP/2 conformance of the HTTPS listener.
h2spec: build
	@scripts/h2spec.sh

clean:
	rm -rf bin

# The stateful test at length: seeded random operation sequences against one node and a
# 3-node cluster, each shape for SHOAL_STATEFUL_DURATION; SHOAL_STATEFUL_SEED replays a seed.
.PHONY: test-stateful
test-stateful:
	SHOAL_STATEFUL_DURATION=$${SHOAL_STATEFUL_DURATION:-5m} SHOAL_STATEFUL_OPS=$${SHOAL_STATEFUL_OPS:-400} \
	  $(GO) test -race -count=1 -timeout 60m -v -run TestStateful ./internal/statefultest/
