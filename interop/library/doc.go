// Package library tests this repository's Go packages, the RPC client
// (github.com/serf-clone/serf/client) and the gossip library
// (github.com/serf-clone/serf/serf), against real HashiCorp Serf v0.10.2
// agents started from the binary named by SERF_REAL_BIN (`make interop`
// installs it and sets SERF_REQUIRE_REAL_BIN, so a missing binary fails
// rather than skips).
//
// It is a module of its own, apart from the interop module around it: that
// one builds upstream's client library, which needs the memberlist and
// go-metrics versions of Serf v0.10.2, while this one builds ours, which
// need the newer versions the main module requires. The two cannot share a
// build list.
package library
