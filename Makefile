# Build, test and benchmark the serf clone. `make test` is what CI runs
# (.ci/run); it must stay well under 15 minutes on a 2-core machine.

GO      ?= go
BIN     := bin/serf
# Packages whose unit tests run under the race detector.
RACE_PKGS := ./serf/... ./agent/... ./client/... ./command/...
BENCH_PKGS := ./serf/... ./agent/...

.PHONY: all build test fmt fmt-check vet race e2e interop testutil bench bench-cluster clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/serf

test: fmt-check vet race testutil e2e interop

fmt:
	gofmt -w $$(git ls-files -co --exclude-standard '*.go')

# Fails (and lists the files) when anything tracked or new is not gofmt'ed.
fmt-check:
	@out=$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

race:
	$(GO) test -race -count=1 -timeout 8m $(RACE_PKGS)

# The cluster harness is its own dependency-free module so that both this
# module (e2e) and the interop module (pinned to upstream's dependency
# versions) can use it.
testutil:
	cd testutil && $(GO) vet ./... && $(GO) test -race -count=1 ./...

# Multi-agent tests of our own binary (TestMain builds it). The tests mostly
# wait on gossip timers, so more of them run at once than there are cores.
e2e:
	$(GO) test -count=1 -parallel 4 -timeout 8m ./e2e/...

# Separate module: our agent and CLI against the real Serf v0.10.2 binary and
# client library. TestMain builds both binaries (real one cached in .cache/).
interop:
	cd interop && $(GO) vet ./... && $(GO) test -count=1 -parallel 4 -timeout 10m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(BENCH_PKGS)

# 64 real agent processes on 127.0.0.1; not part of `make test`.
bench-cluster:
	SERF_E2E_LARGE=1 $(GO) test -count=1 -timeout 10m -run 'TestLargeCluster' -bench 'BenchmarkCluster' -benchtime 1x ./e2e/

clean:
	rm -rf bin .cache
