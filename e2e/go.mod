module github.com/serf-clone/serf/e2e

go 1.26.8

require (
	github.com/hashicorp/go-msgpack/v2 v2.1.5
	github.com/serf-clone/serf/testutil v0.0.0
)

replace github.com/serf-clone/serf/testutil => ../testutil
