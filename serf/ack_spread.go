package serf

import (
	"math/rand/v2"
	"time"
)

// Acks of a big cluster are spread out (see "Query acks do not overflow
// the asker" in doc.go).
//
// Every member that receives a query with the ack flag acks it at once,
// by UDP, to the asker. Queries go out directly at once
// (gossip_relief.go), so in a quiet cluster every member gets one within
// milliseconds, where gossip spread it over several rounds, and the acks
// reach one socket as fast. A receive buffer at Linux's common default
// rmem_max (208 KiB, roughly a thousand bytes of kernel memory per small
// packet) holds a few hundred of them, and in the simulator the asker of
// 2,000 lost 610. So above ackSpreadFrom members each member waits a
// random time before it acks, up to one gossip interval per
// ackSpreadPerInterval members, and the asker gets about that many acks
// per gossip interval. Up to ackSpreadFrom, a burst such a buffer still
// holds, acks go out at once, as in Serf.
const (
	ackSpreadPerInterval = 512
	ackSpreadFrom        = 128
)

// ackSpreadWindow is the longest an ack waits in a cluster of n members:
// 0 up to ackSpreadFrom, then gossip × n / ackSpreadPerInterval (50 ms
// at 129 members, a gossip interval at 512).
func ackSpreadWindow(gossip time.Duration, n int) time.Duration {
	if n <= ackSpreadFrom {
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
