package serf

import (
	"fmt"
	"net"

	"github.com/hashicorp/memberlist"
)

// MergeDelegate lets the application veto a merge with other members
// (Config.Merge). NotifyMerge gets the members about to be merged in; a
// non-nil error cancels the merge (for a join or push/pull) or refuses the
// node (for a single newly alive node).
type MergeDelegate interface {
	NotifyMerge([]*Member) error
}

var (
	_ memberlist.MergeDelegate = (*mergeDelegate)(nil)
	_ memberlist.AliveDelegate = (*mergeDelegate)(nil)
)

// mergeDelegate adapts Config.Merge to memberlist's merge and alive
// delegates, and tells the transport which members a join brought to a
// node alone (second_hand.go). Without Config.Merge memberlist accepts
// every node as before.
type mergeDelegate struct {
	serf *Serf
}

// NotifyMerge is called by memberlist before it merges a join's state.
func (d *mergeDelegate) NotifyMerge(nodes []*memberlist.Node) error {
	if d.serf.config.Merge != nil {
		members := make([]*Member, 0, len(nodes))
		for _, n := range nodes {
			m, err := d.member(n)
			if err != nil {
				return err
			}
			members = append(members, m)
		}
		if err := d.serf.config.Merge.NotifyMerge(members); err != nil {
			return err
		}
	}
	d.serf.markSecondHand(nodes)
	return nil
}

// NotifyAlive is called by memberlist for every alive message about a node.
func (d *mergeDelegate) NotifyAlive(n *memberlist.Node) error {
	m, err := d.member(n)
	if err != nil {
		return err
	}
	return d.serf.config.Merge.NotifyMerge([]*Member{m})
}

// member checks what memberlist tells about n and turns it into the
// Member shown to the delegate: status left for a node memberlist knows
// left, StatusNone otherwise.
func (d *mergeDelegate) member(n *memberlist.Node) (*Member, error) {
	if err := d.serf.validateNodeName(n.Name); err != nil {
		return nil, err
	}
	if len(n.Addr) != net.IPv4len && len(n.Addr) != net.IPv6len {
		return nil, fmt.Errorf("IP byte length is invalid: %d bytes is not either 4 or 16", len(n.Addr))
	}
	if len(n.Meta) > memberlist.MetaMaxSize {
		return nil, fmt.Errorf("Encoded length of tags exceeds limit of %d bytes", memberlist.MetaMaxSize)
	}
	status := StatusNone
	if n.State == memberlist.StateLeft {
		status = StatusLeft
	}
	return &Member{
		Name:        n.Name,
		Addr:        append(net.IP(nil), n.Addr...),
		Port:        n.Port,
		Tags:        d.serf.decodeTags(n.Meta),
		Status:      status,
		ProtocolMin: n.PMin,
		ProtocolMax: n.PMax,
		ProtocolCur: n.PCur,
		DelegateMin: n.DMin,
		DelegateMax: n.DMax,
		DelegateCur: n.DCur,
	}, nil
}
