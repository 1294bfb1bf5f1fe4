// Package e2e runs our serf binary as real processes on 127.0.0.1: the
// getting-started flow, multi-agent membership, events and queries through
// handler scripts, and robustness of the RPC port. TestMain builds the binary
// once; $SERF_E2E_BIN runs the same tests against another binary (for
// example the real Serf, to check the tests themselves).
package e2e
