// Package interop holds end-to-end tests that mix our serf clone with the
// real HashiCorp Serf v0.10.2: mixed gossip clusters, each CLI against the
// other's agent, identical CLI output, and the real Go RPC client library
// against our agent.
//
// TestMain builds our binary from the repository root and installs the real
// one with `go install github.com/hashicorp/serf/cmd/serf@v0.10.2` into
// ../.cache/ (or uses $SERF_REAL_BIN). $SERF_OUR_BIN replaces our binary;
// SERF_OUR_BIN=$SERF_REAL_BIN checks the tests against the real Serf alone.
// It is a separate module so that the main module never depends on
// github.com/hashicorp/serf. It builds no package of the main module: tests
// of our Go packages against the real agent are in interop/library, a module
// of its own (see its package comment for why).
package interop
