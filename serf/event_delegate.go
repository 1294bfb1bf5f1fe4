package serf

import "github.com/hashicorp/memberlist"

// eventDelegate turns memberlist's membership callbacks into Serf member
// state changes.
type eventDelegate struct {
	serf *Serf
}

var _ memberlist.EventDelegate = (*eventDelegate)(nil)

func (e *eventDelegate) NotifyJoin(n *memberlist.Node)   { e.serf.nodeJoined(n) }
func (e *eventDelegate) NotifyLeave(n *memberlist.Node)  { e.serf.nodeLeft(n) }
func (e *eventDelegate) NotifyUpdate(n *memberlist.Node) { e.serf.nodeUpdated(n) }
