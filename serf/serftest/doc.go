// Package serftest is to package serf what net/http/httptest is to net/http:
// helpers for tests (and for the cmd/serf-sim simulator) that run serf.Serf
// members in one process. It depends on the standard library and memberlist
// only, so any package of the main module may use it from its tests without
// pulling the multi-process harness (the separate testutil module) into the
// main module's go.mod.
package serftest
