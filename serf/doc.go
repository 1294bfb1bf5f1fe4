// Package serf is a wire-compatible implementation of HashiCorp Serf's
// gossip layer (protocol versions 2 to 5) on top of hashicorp/memberlist.
//
// memberlist decides who is reachable; Serf adds what the cluster agrees
// on about its members (tags, and whether a missing node left or failed),
// user events, queries with responses, network coordinates and cluster-wide
// encryption key changes. Everything reaches the application, in order, on
// Config.EventCh.
//
// Where things live:
//
//	config.go            Config, defaults and validation
//	serf.go              Serf: Create, accessors, Stats, Shutdown
//	messages.go          every gossip message and its encoding
//	members.go           member table and memberlist join/leave/update
//	intents.go           join/leave intents, refutation, pruning
//	join_leave.go        Join, Leave, RemoveFailedNode
//	reaper.go            reaping and reconnecting failed/left members
//	broadcast.go         outgoing gossip queues and their depth checks
//	delegate.go          memberlist.Delegate: messages, push/pull, meta
//	user_event.go        user events and their de-duplication ring
//	query.go             query API: QueryParam, QueryResponse, Query
//	query_handle.go      sending, receiving and answering queries
//	internal_query.go    the _serf_ queries Serf answers itself
//	conflict.go          name-conflict resolution
//	keymanager.go        cluster-wide keyring changes
//	pipeline.go          event pipeline: snapshot, internal queries, coalescing
//	tags.go, coordinates.go, *_delegate.go   small adapters
package serf
