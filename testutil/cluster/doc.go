// Package cluster is a test harness for clusters of `serf agent` processes on
// 127.0.0.1. It works with any serf binary that speaks the Serf v0.10.2 CLI,
// so the same code drives our agents, the real Serf agents, or a mix.
//
// Every process it starts is tied to a testing.TB: t.Cleanup kills the whole
// process group and waits for it, so no agent or handler script outlives the
// test. Waits are bounded polls (Eventually); nothing asserts on timing.
//
// The package uses only the standard library on purpose, and testutil/ is a
// module of its own: the interop module, whose dependency versions follow
// upstream Serf's, imports it through a replace directive without pulling in
// this repository's main module.
package cluster
