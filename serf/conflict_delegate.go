package serf

import "github.com/hashicorp/memberlist"

// conflictDelegate hears from memberlist when two nodes claim one name.
type conflictDelegate struct {
	serf *Serf
}

var _ memberlist.ConflictDelegate = (*conflictDelegate)(nil)

func (c *conflictDelegate) NotifyConflict(existing, other *memberlist.Node) {
	c.serf.nameConflict(existing, other)
}
