# Build, test and benchmark the serf clone. `make test` is what CI runs
# (.ci/run); it must stay well under 15 minutes on a 2-core machine.

GO      ?= go
BIN     := bin/serf
# Packages with unit tests run under the race detector. A directory that does
# not exist yet (parallel branches not merged) is left out rather than failing
# the pattern match.
RACE_PKGS := $(foreach d,serf agent client command testutil,$(if $(wildcard $(d)),./$(d)/...))
BENCH_PKGS := $(foreach d,serf agent,$(if $(wildcard $(d)),./$(d)/...))
# The interop module keeps a verbatim copy of the cluster harness (it cannot
# import this module without coupling the two go.sum files); see README.
HARNESS_SRC := testutil/cluster
HARNESS_DST := interop/cluster

.PHONY: all build test fmt fmt-check vet race e2e interop harness-check harness-sync bench bench-cluster clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/serf

test: fmt-check vet harness-check race e2e interop

fmt:
	gofmt -w $$(git ls-files -co --exclude-standard '*.go')

# Fails (and lists the files) when anything tracked or new is not gofmt'ed.
fmt-check:
	@out=$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

race:
	$(if $(RACE_PKGS),$(GO) test -race -timeout 8m $(RACE_PKGS),@echo "no unit-test packages yet")

# Multi-agent tests of our own binary (TestMain builds it). The tests mostly
# wait on gossip timers, so more of them run at once than there are cores.
e2e:
	$(GO) test -count=1 -parallel 4 -timeout 8m ./e2e/...

# Separate module: our agent and CLI against the real Serf v0.10.2 binary and
# client library. TestMain builds both binaries (real one cached in .cache/).
interop:
	cd interop && $(GO) vet ./... && $(GO) test -count=1 -parallel 4 -timeout 10m ./...

harness-check:
	@diff -r $(HARNESS_SRC) $(HARNESS_DST) >/dev/null 2>&1 || \
	{ echo "$(HARNESS_DST) differs from $(HARNESS_SRC); run 'make harness-sync'"; exit 1; }

harness-sync:
	rm -rf $(HARNESS_DST) && cp -r $(HARNESS_SRC) $(HARNESS_DST)

bench:
	$(if $(BENCH_PKGS),$(GO) test -run '^$$' -bench . -benchmem $(BENCH_PKGS),@echo "no benchmark packages yet")

# 64 real agent processes on 127.0.0.1; not part of `make test`.
bench-cluster:
	SERF_E2E_LARGE=1 $(GO) test -count=1 -timeout 10m -run 'TestLargeCluster' -bench 'BenchmarkCluster' -benchtime 1x ./e2e/

clean:
	rm -rf bin .cache
