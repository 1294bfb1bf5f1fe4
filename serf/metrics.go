package serf

import (
	"time"

	metrics "github.com/hashicorp/go-metrics"
)

// This file is the one home of the serf.* metrics: their names (exactly
// Serf v0.10.2's, which dashboards and alerts know) and one small helper
// per metric, so that every emit in the code paths is a single call. Each
// key is written out as a []string literal starting with "serf"; the
// interop module's name test reads these literals from this package's
// source and compares them with upstream's.
//
// Counters:
//
//	serf.member.join / .update / .flap / .left / .failed  membership changes
//	serf.events, serf.events.<name>                       new user events
//	serf.queries, serf.queries.<name>                     new queries
//	serf.query_acks, serf.query_duplicate_acks            acks to our queries
//	serf.query_responses, serf.query_duplicate_responses  responses to ours
//	serf.coordinate.rejected, serf.coordinate.zero-rtt    coordinate updates
//
// Samples:
//
//	serf.msgs.received, serf.msgs.sent                    message sizes (bytes)
//	serf.queue.Intent / .Event / .Query                   broadcast queue depths
//	serf.coordinate.adjustment-ms                         coordinate moves
//	serf.snapshot.appendLine, serf.snapshot.compact       snapshot timings (ms)

// With Config.TransportCompression, Serf's transport also counts the bytes
// it sends as memberlist.udp.sent and memberlist.tcp.sent (wireSent).

// serfMetrics emits the serf.* metrics into one go-metrics registry, with
// Config.MetricLabels on every one. The zero value reports to go-metrics'
// global registry without labels.
type serfMetrics struct {
	sink   *metrics.Metrics // nil: go-metrics' global registry
	labels []metrics.Label
}

func newSerfMetrics(c *Config) serfMetrics {
	return serfMetrics{sink: c.Metrics, labels: c.MetricLabels}
}

func (m serfMetrics) incr(key []string) { m.add(key, 1) }

func (m serfMetrics) add(key []string, v float32) {
	if m.sink == nil {
		metrics.IncrCounterWithLabels(key, v, m.labels)
		return
	}
	m.sink.IncrCounterWithLabels(key, v, m.labels)
}

func (m serfMetrics) sample(key []string, v float32) {
	if m.sink == nil {
		metrics.AddSampleWithLabels(key, v, m.labels)
		return
	}
	m.sink.AddSampleWithLabels(key, v, m.labels)
}

func (m serfMetrics) since(key []string, start time.Time) {
	if m.sink == nil {
		metrics.MeasureSinceWithLabels(key, start, m.labels)
		return
	}
	m.sink.MeasureSinceWithLabels(key, start, m.labels)
}

// memberJoin counts a node becoming alive (first join or rejoin).
func (m serfMetrics) memberJoin() { m.incr([]string{"serf", "member", "join"}) }

// memberFlap counts a failed node coming back within Config.FlapTimeout.
func (m serfMetrics) memberFlap() { m.incr([]string{"serf", "member", "flap"}) }

// memberUpdate counts a node's new address, tags or protocol versions.
func (m serfMetrics) memberUpdate() { m.incr([]string{"serf", "member", "update"}) }

// memberGone counts a node that left or failed, under its new status:
// serf.member.left or serf.member.failed.
func (m serfMetrics) memberGone(status MemberStatus) {
	m.incr([]string{"serf", "member", status.String()})
}

// userEvent counts a user event seen for the first time, in total and by
// name.
func (m serfMetrics) userEvent(name string) {
	m.incr([]string{"serf", "events"})
	m.incr([]string{"serf", "events", name})
}

// query counts a query seen for the first time, in total and by name.
func (m serfMetrics) query(name string) {
	m.incr([]string{"serf", "queries"})
	m.incr([]string{"serf", "queries", name})
}

// queryAck counts an ack to one of our queries; dup marks a node's repeat.
func (m serfMetrics) queryAck(dup bool) {
	if dup {
		m.incr([]string{"serf", "query_duplicate_acks"})
		return
	}
	m.incr([]string{"serf", "query_acks"})
}

// queryResponse counts a response to one of our queries; dup marks a
// node's repeat.
func (m serfMetrics) queryResponse(dup bool) {
	if dup {
		m.incr([]string{"serf", "query_duplicate_responses"})
		return
	}
	m.incr([]string{"serf", "query_responses"})
}

// msgReceived samples the size of a Serf message from a peer.
func (m serfMetrics) msgReceived(n int) {
	m.sample([]string{"serf", "msgs", "received"}, float32(n))
}

// msgsSent samples the size of every broadcast handed to memberlist.
func (m serfMetrics) msgsSent(msgs [][]byte) {
	for _, msg := range msgs {
		m.sample([]string{"serf", "msgs", "sent"}, float32(len(msg)))
	}
}

// queueDepth samples a broadcast queue's length: serf.queue.Intent,
// serf.queue.Event or serf.queue.Query.
func (m serfMetrics) queueDepth(name string, depth int) {
	m.sample([]string{"serf", "queue", name}, float32(depth))
}

// coordinateRejected counts a peer's coordinate the client refused.
func (m serfMetrics) coordinateRejected() { m.incr([]string{"serf", "coordinate", "rejected"}) }

// coordinateZeroRTT counts a coordinate update measured with a zero RTT.
func (m serfMetrics) coordinateZeroRTT() { m.incr([]string{"serf", "coordinate", "zero-rtt"}) }

// coordinateAdjustment samples how far (ms) an update moved our coordinate.
func (m serfMetrics) coordinateAdjustment(d time.Duration) {
	m.sample([]string{"serf", "coordinate", "adjustment-ms"}, float32(d.Seconds()*1e3))
}

// snapshotAppendLine times one line appended to the snapshot; use it as
// defer m.snapshotAppendLine(time.Now()).
func (m serfMetrics) snapshotAppendLine(start time.Time) {
	m.since([]string{"serf", "snapshot", "appendLine"}, start)
}

// snapshotCompact times one compaction of the snapshot.
func (m serfMetrics) snapshotCompact(start time.Time) {
	m.since([]string{"serf", "snapshot", "compact"}, start)
}

// wireSent counts n bytes sent by the transport over proto ("udp" or
// "tcp") under memberlist's own counter name.
func (m serfMetrics) wireSent(proto string, n int) {
	m.add([]string{"memberlist", proto, "sent"}, float32(n))
}
