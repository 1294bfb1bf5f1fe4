module github.com/serf-clone/serf/e2e

go 1.26.8

require (
	github.com/hashicorp/go-msgpack/v2 v2.1.5
	github.com/serf-clone/serf/testutil v0.0.0
)

require (
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/prometheus/client_model v0.6.2 // indirect
	github.com/prometheus/common v0.71.0
	google.golang.org/protobuf v1.36.12 // indirect
)

replace github.com/serf-clone/serf/testutil => ../testutil
