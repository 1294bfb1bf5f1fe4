module github.com/serf-clone/serf/interop/sim

go 1.26.8

require (
	github.com/hashicorp/serf v0.10.2
	github.com/serf-clone/serf v0.0.0
)

require (
	github.com/armon/go-metrics v0.4.1 // indirect
	github.com/google/btree v1.1.3 // indirect
	github.com/hashicorp/errwrap v1.1.0 // indirect
	github.com/hashicorp/go-immutable-radix v1.3.1 // indirect
	github.com/hashicorp/go-metrics v0.7.0 // indirect
	github.com/hashicorp/go-msgpack/v2 v2.1.5 // indirect
	github.com/hashicorp/go-multierror v1.1.1 // indirect
	github.com/hashicorp/go-sockaddr v1.0.7 // indirect
	github.com/hashicorp/golang-lru v1.0.2 // indirect
	github.com/hashicorp/memberlist v0.7.0 // indirect
	github.com/miekg/dns v1.1.73 // indirect
	github.com/sean-/seed v0.0.0-20170313163322-e2103e2c3529 // indirect
	golang.org/x/net v0.58.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
)

replace github.com/serf-clone/serf => ../..

// Upstream Serf v0.10.2 imports github.com/hashicorp/go-metrics/compat,
// which go-metrics v0.7.0 (the main module's) no longer has; v0.5.4 is the
// version upstream was released with and still serves the main module's
// imports of the root package.
replace github.com/hashicorp/go-metrics => github.com/hashicorp/go-metrics v0.5.4
