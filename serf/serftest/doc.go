// Package serftest is to package serf what net/http/httptest is to net/http:
// helpers for tests (and for the cmd/serf-sim simulator) that run serf.Serf
// members in one process.
//
//   - Network and Transport: an in-memory memberlist.Transport with per-link
//     latency, loss and drop, partitions and restarts (network.go).
//   - NewCluster and TestConfig: n serf.Serf members on one Network with
//     fast test timings, event collectors and bounded waits (cluster.go).
//   - Eventually and Poll: bounded polling (wait.go); SyncBuffer (buffer.go).
//
// It depends on the standard library, memberlist and serf only, so any
// package of the main module may use it from its tests without pulling the
// multi-process harness (the separate testutil module) into the main
// module's go.mod. Tests inside package serf that need it are external
// tests (package serf_test).
package serftest
