package serf

import (
	"math/rand/v2"
	"time"
)

// Acks of a big cluster are spread out (see "Query acks do not overflow
// the asker" in doc.go).
//
// Every member that receives a query with the ack flag acks it at once,
// by UDP, to the asker. When gossip relief or a quiet cluster's gossip
// delivers the query to thousands of members within a round, thousands of
// acks reach one socket within milliseconds; a receive buffer at Linux's
// default rmem_max holds a few hundred such packets, and in the simulator
// the asker lost 610 of 2,000. Above ackSpreadPerInterval members each
// member therefore waits a random time before it acks, up to one gossip
// interval per ackSpreadPerInterval members, so the asker gets about that
// many acks per gossip interval. Up to ackSpreadPerInterval members acks
// go out at once, as in Serf.
const ackSpreadPerInterval = 512

// ackSpreadWindow is the longest an ack waits in a cluster of n members:
// 0 up to ackSpreadPerInterval, then gossip × n / ackSpreadPerInterval.
func ackSpreadWindow(gossip time.Duration, n int) time.Duration {
	if n <= ackSpreadPerInterval {
		return 0
	}
	return gossip * time.Duration(n) / ackSpreadPerInterval
}

// sendAck runs send now, or after a random part of the spread window in
// a background task that shutdown cancels.
func (s *Serf) sendAck(send func()) {
	window := ackSpreadWindow(s.config.MemberlistConfig.GossipInterval, s.NumNodes())
	if window <= 0 {
		send()
		return
	}
	wait := rand.N(window)
	s.startBackground(func() {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case <-timer.C:
			send()
		case <-s.shutdownCh:
		}
	})
}
