# Build, test and benchmark the serf clone. `make test` is what CI runs
# (.ci/run); it must stay well under 15 minutes on a 2-core machine.

GO      ?= go
BIN     := bin/serf
# Packages whose unit tests run under the race detector: the whole main
# module, which needs no real Serf binary.
RACE_PKGS := ./...
BENCH_PKGS := ./serf/... ./agent/...
# Every module of the repository: the main one and the test modules.
MODULES := . testutil e2e interop interop/library
# interop/sim (the simulator on upstream Serf's library) builds only with
# -tags hashicorpmetrics; it is kept tidy, vetted and linted with that tag.
TIDY_MODULES := $(MODULES) interop/sim
SIM_TAGS     := hashicorpmetrics

LINT_VERSION := v2.15.0
LINT_BIN     := $(CURDIR)/.cache/bin/golangci-lint
COVER_OUT    := $(CURDIR)/.cache/cover.out

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

.PHONY: all build real-serf netns-deps test fmt fmt-check vet lint tidy-check install-check race cover e2e interop fault testutil bench bench-cluster bench-storm bench-loss soak fuzz sim sim-upstream clean

all: build

# Static, as HashiCorp builds Serf's releases: without cgo the agent maps no
# libc or dynamic loader (about 1.4 MiB of resident memory each).
build:
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/serf

test: fmt-check vet lint tidy-check install-check race testutil e2e real-serf interop

# Installed into a staging dir outside any module and renamed into place, so
# an interrupted install never leaves a half-written binary behind.
real-serf: $(REAL_BIN)
$(REAL_BIN):
	@mkdir -p $(CURDIR)/.cache
	stage=$$(mktemp -d $(CURDIR)/.cache/install-XXXXXX) && \
	(cd $$stage && GOBIN=$$stage GOFLAGS= CGO_ENABLED=0 $(GO) install github.com/hashicorp/serf/cmd/serf@$(REAL_VERSION)) && \
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

# golangci-lint (config in .golangci.yml), installed once into .cache/bin
# through the module proxy, on every module.
lint: $(LINT_BIN)
	@fail=; for m in $(MODULES); do echo "golangci-lint: $$m"; (cd $$m && $(LINT_BIN) run ./...) || fail="$$fail $$m"; done; \
	echo "golangci-lint: interop/sim"; (cd interop/sim && $(GO) vet -tags $(SIM_TAGS) ./... && $(LINT_BIN) run --build-tags $(SIM_TAGS) ./...) || fail="$$fail interop/sim"; \
	if [ -n "$$fail" ]; then echo "lint findings in:$$fail"; exit 1; fi
$(LINT_BIN):
	@mkdir -p $(dir $(LINT_BIN))
	GOBIN=$(dir $(LINT_BIN)) GOFLAGS= $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(LINT_VERSION)

# Fails if `go mod tidy` would change go.mod or go.sum of any module. Tidy
# runs on a copy of the two files, so the tree is never modified.
tidy-check:
	@for m in $(TIDY_MODULES); do \
		(cd $$m && $(GO) mod tidy -diff >/dev/null) || { echo "go mod tidy needed in $$m:"; (cd $$m && $(GO) mod tidy -diff); exit 1; }; \
	done

# `go install github.com/serf-clone/serf/cmd/serf@<version>` is accepted
# (no replace directive, every requirement resolvable): see .ci/install-check.
install-check:
	.ci/install-check

# The main module's unit tests; no real Serf binary needed.
race:
	$(GO) test -race -count=1 -timeout 8m $(RACE_PKGS)

# Coverage of the main module's unit tests: profile in .cache/cover.out,
# per-function summary on stdout.
cover:
	@mkdir -p $(dir $(COVER_OUT))
	$(GO) test -count=1 -coverprofile=$(COVER_OUT) -coverpkg=./... ./...
	$(GO) tool cover -func=$(COVER_OUT)

# The cluster harness is its own dependency-free module, required only by
# the test modules (e2e, interop, interop/library), so the main module's
# go.mod needs no replace directive and `go install` works.
testutil: netns-deps
	cd testutil && $(GO) vet ./... && $(NETNS_ENV) $(GO) test -race -count=1 ./...

# Multi-agent tests of our own binary (TestMain builds it), a module of its
# own so that only it requires testutil. The tests mostly wait on gossip
# timers, so more of them run at once than there are cores.
e2e: netns-deps
	cd e2e && $(GO) vet ./... && $(NETNS_ENV) $(GO) test -count=1 -parallel 4 -timeout 8m ./...

# Everything that needs the real Serf v0.10.2, in two modules: interop (our
# agent and CLI against the real binary and upstream's client library;
# TestMain builds both binaries) and interop/library (our client and serf
# packages against real agents).
interop: real-serf netns-deps
	cd interop && $(GO) vet ./... && $(REAL_ENV) $(NETNS_ENV) $(GO) test -count=1 -parallel 4 -timeout 10m ./...
	cd interop/library && $(GO) vet ./... && $(REAL_ENV) $(GO) test -count=1 -parallel 4 -timeout 10m ./...

# Only the fault-injection suite (it also runs inside e2e and interop).
fault: real-serf netns-deps
	cd e2e && $(NETNS_ENV) $(GO) test -count=1 -timeout 8m -run 'TestFault' -v ./...
	cd interop && $(REAL_ENV) $(NETNS_ENV) $(GO) test -count=1 -timeout 8m -run 'TestFault' -v ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(BENCH_PKGS)

# Native Go fuzzing: every Fuzz target of the main module's packages, found
# by grep (so a new target is picked up), each for FUZZTIME, one after
# another. Not part of `make test`, which runs only the seed corpora in
# testdata/fuzz/. An input that fails is saved by go under testdata/fuzz/
# of its package; the run goes on and fails at the end.
FUZZTIME ?= 10m
fuzz:
	@fail=; for dir in $$($(GO) list -f '{{.Dir}}' ./...); do \
		for target in $$(cat $$dir/*_test.go 2>/dev/null | grep -o '^func Fuzz[A-Za-z0-9_]*(' | sed 's/^func //; s/($$//'); do \
			echo "fuzz: $$target in $$dir for $(FUZZTIME)"; \
			$(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) "$$dir" || fail="$$fail $$target"; \
		done; \
	done; \
	if [ -n "$$fail" ]; then echo "fuzz failures:$$fail"; exit 1; fi

# A/B of N real agent processes, ours against the real Serf v0.10.2, on
# 127.0.0.1 (interop/bench_cluster_test.go); not part of `make test`.
# Knobs: BENCH_N="16 64 256" BENCH_RUNS=3 BENCH_HOLD=60s BENCH_SETTLE=20s
# BENCH_CONVERGE_MAX=90s BENCH_EVENTS=3 BENCH_ONLY=ours|real BENCH_ARGS=flags.
# The last line is the summary.
# The 64-agent run of our binary alone stays in e2e (SERF_E2E_LARGE=1
# go test -run TestLargeCluster -bench BenchmarkCluster there).
bench-cluster: real-serf
	cd interop && SERF_BENCH_CLUSTER=1 $(REAL_ENV) $(GO) test -count=1 -timeout 0 -run '^TestBenchCluster$$' -v .

# The join storm alone, A/B: STORM_N agents of ours and of the real Serf
# v0.10.2 all join one at the same moment and are left alone for
# STORM_WATCH; when each converged is read from its log afterwards
# (interop/bench_storm_test.go); not part of `make test`. Knobs:
# STORM_N=256 STORM_RUNS=4 STORM_SETTLE=15s STORM_WATCH=60s
# STORM_ONLY=ours|real. The last line is the summary.
bench-storm: real-serf
	cd interop && SERF_BENCH_STORM=1 $(REAL_ENV) $(GO) test -count=1 -timeout 0 -run '^TestBenchStorm$$' -v .

# False failures under packet loss, A/B: a cluster of ours and one of the
# real Serf v0.10.2 in network namespaces, losing the same share of every
# packet side by side (interop/bench_loss_test.go); not part of `make
# test`. Knobs: LOSS_PCT=30 LOSS_HOLD=10m LOSS_MEMBERS=5. The last line is
# the summary.
bench-loss: real-serf netns-deps
	cd interop && SERF_BENCH_LOSS=1 $(REAL_ENV) $(NETNS_ENV) $(GO) test -count=1 -timeout 0 -run '^TestBenchLoss$$' -v .

# Our agents on 127.0.0.1 under churn (kill -9, leaves, restarts), user
# events, queries and hostile RPC clients for DURATION; fails if a stable
# agent's goroutines, descriptors or RSS grow beyond the tolerances stated
# in e2e/soak_test.go. Not part of `make test`.
DURATION     ?= 5m
SOAK_TIMEOUT ?= 3h
soak:
	cd e2e && SERF_E2E_SOAK=$(DURATION) $(GO) test -count=1 -v -timeout $(SOAK_TIMEOUT) -run '^TestSoak$$' .

# The in-process simulator: N real serf.Serf members on serftest's
# in-memory network, results in gossip rounds against the epidemic model;
# not part of `make test`. SCALE dilates every protocol interval (LAN
# defaults × SCALE), so a busy machine keeps up; the plot goes to
# docs/sim-$(N).svg.
N        ?= 2000
SCENARIO ?= all
SCALE    ?= 4
SIM_FLAGS ?=
sim:
	@mkdir -p docs
	$(GO) run ./cmd/serf-sim -n $(N) -scenario $(SCENARIO) -scale $(SCALE) -plot docs/sim-$(N).svg $(SIM_FLAGS)

# The same scenarios on upstream Serf v0.10.2's library (interop/sim, a
# module of its own; the main module never imports hashicorp/serf). The
# hashicorpmetrics tag makes upstream's go-metrics/compat the
# hashicorp/go-metrics that memberlist v0.7.0 takes.
sim-upstream:
	@mkdir -p docs
	cd interop/sim && $(GO) run -tags $(SIM_TAGS) . -n $(N) -scenario $(SCENARIO) -scale $(SCALE) -plot ../../docs/sim-upstream-$(N).svg $(SIM_FLAGS)

clean:
	rm -rf bin .cache
