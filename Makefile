# Build, test and benchmark the serf clone. `make test` is what CI runs
# (.ci/run); it must stay well under 15 minutes on a 2-core machine.

GO      ?= go
BIN     := bin/serf
# Packages whose unit tests run under the race detector.
RACE_PKGS := ./serf/... ./agent/... ./client/... ./command/...
BENCH_PKGS := ./serf/... ./agent/...

# The reference binary every compatibility test runs against: the real Serf
# v0.10.2, installed once through the module proxy into the ignored .cache/.
# Test steps get it as SERF_REAL_BIN, and SERF_REQUIRE_REAL_BIN makes a test
# that cannot find it fail instead of skipping.
REAL_VERSION  := v0.10.2
REAL_DIR      := $(CURDIR)/.cache/realserf-$(REAL_VERSION)
REAL_BIN      := $(REAL_DIR)/serf
REAL_ENV      := SERF_REAL_BIN=$(REAL_BIN) SERF_REQUIRE_REAL_BIN=1

# The fault-injection suite (TestFault* in e2e/ and interop/) runs agents in
# network namespaces it creates with `ip` and `nft`. netns-deps installs
# iproute2 and nftables with apt-get where they are missing; as root, the
# suite must then run (SERF_REQUIRE_NETNS turns its skip into a failure).
NETNS_ENV := $(if $(filter 0,$(shell id -u)),SERF_REQUIRE_NETNS=1)

.PHONY: all build real-serf netns-deps test fmt fmt-check vet race e2e interop fault testutil bench bench-cluster clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/serf

test: fmt-check vet real-serf race testutil e2e interop

# Installed into a staging dir outside any module and renamed into place, so
# an interrupted install never leaves a half-written binary behind.
real-serf: $(REAL_BIN)
$(REAL_BIN):
	@mkdir -p $(CURDIR)/.cache
	stage=$$(mktemp -d $(CURDIR)/.cache/install-XXXXXX) && \
	(cd $$stage && GOBIN=$$stage GOFLAGS= $(GO) install github.com/hashicorp/serf/cmd/serf@$(REAL_VERSION)) && \
	rm -rf $(REAL_DIR) && mv $$stage $(REAL_DIR)

netns-deps:
	@if command -v ip >/dev/null 2>&1 && command -v nft >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" != 0 ]; then echo "netns-deps: not root and ip/nft missing; the fault suite will skip"; \
	else apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y iproute2 nftables; fi

fmt:
	gofmt -w $$(git ls-files -co --exclude-standard '*.go')

# Fails (and lists the files) when anything tracked or new is not gofmt'ed.
fmt-check:
	@out=$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

race: real-serf
	$(REAL_ENV) $(GO) test -race -count=1 -timeout 8m $(RACE_PKGS)

# The cluster harness is its own dependency-free module so that both this
# module (e2e) and the interop module (pinned to upstream's dependency
# versions) can use it.
testutil:
	cd testutil && $(GO) vet ./... && $(GO) test -race -count=1 ./...

# Multi-agent tests of our own binary (TestMain builds it). The tests mostly
# wait on gossip timers, so more of them run at once than there are cores.
e2e: real-serf netns-deps
	$(REAL_ENV) $(NETNS_ENV) $(GO) test -count=1 -parallel 4 -timeout 8m ./e2e/...

# Separate module: our agent and CLI against the real Serf v0.10.2 binary and
# client library. TestMain builds both binaries (real one cached in .cache/).
interop: real-serf netns-deps
	cd interop && $(GO) vet ./... && $(REAL_ENV) $(NETNS_ENV) $(GO) test -count=1 -parallel 4 -timeout 10m ./...

# Only the fault-injection suite (it also runs inside e2e and interop).
fault: real-serf netns-deps
	$(REAL_ENV) $(NETNS_ENV) $(GO) test -count=1 -timeout 8m -run 'TestFault' -v ./e2e/...
	cd interop && $(REAL_ENV) $(NETNS_ENV) $(GO) test -count=1 -timeout 8m -run 'TestFault' -v ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(BENCH_PKGS)

# 64 real agent processes on 127.0.0.1; not part of `make test`.
bench-cluster:
	SERF_E2E_LARGE=1 $(GO) test -count=1 -timeout 10m -run 'TestLargeCluster' -bench 'BenchmarkCluster' -benchtime 1x ./e2e/

clean:
	rm -rf bin .cache
