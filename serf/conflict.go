package serf

import "github.com/hashicorp/memberlist"

// nameConflict handles memberlist's report that two nodes use one name.
// Someone else's dispute is only worth a warning; a dispute over our own
// name is an error, settled by a vote (resolveNameConflict) if enabled.
func (s *Serf) nameConflict(existing, other *memberlist.Node) {
	ours := existing.Name == s.config.NodeName
	resolve := s.config.EnableNameConflictResolution
	switch {
	case !ours:
		s.logger.Printf("[WARN] serf: Name conflict for '%s' both %s:%d and %s:%d are claiming",
			existing.Name, existing.Addr, existing.Port, other.Addr, other.Port)
	case resolve:
		s.logNameConflict(other, resolve)
		s.startBackground(s.resolveNameConflict)
	default:
		s.logNameConflict(other, resolve)
	}
}

// logNameConflict reports that other claims our name.
func (s *Serf) logNameConflict(other *memberlist.Node, resolve bool) {
	s.logger.Printf("[ERR] serf: Node name conflicts with another node at %s:%d. Names must be unique! (Resolution enabled: %v)",
		other.Addr, other.Port, resolve)
}

// resolveNameConflict asks the cluster who it believes owns our name. If
// fewer than a majority of the answers point at our address, we are the
// impostor and shut down.
func (s *Serf) resolveNameConflict() {
	local := s.memberlist.LocalNode()
	resp, err := s.Query(InternalQueryPrefix+conflictQuery, []byte(s.config.NodeName), nil)
	if err != nil {
		s.logger.Printf("[ERR] serf: Failed to start name resolution query: %v", err)
		return
	}

	var responses, matching int
	for r := range resp.ResponseCh() {
		if len(r.Payload) < 1 || messageType(r.Payload[0]) != messageConflictResponseType {
			s.logger.Printf("[ERR] serf: Invalid conflict query response type: %v", r.Payload)
			continue
		}
		var m Member
		if err := s.codec.decode(r.Payload[1:], &m); err != nil {
			s.logger.Printf("[ERR] serf: Failed to decode conflict query response: %v", err)
			continue
		}
		responses++
		if m.Addr.Equal(local.Addr) && m.Port == local.Port {
			matching++
		}
	}

	majority := responses/2 + 1
	if matching >= majority {
		s.logger.Printf("[INFO] serf: majority in name conflict resolution [%d / %d]", matching, responses)
		return
	}
	s.logger.Printf("[WARN] serf: minority in name conflict resolution, quiting [%d / %d]", matching, responses)
	// Shutdown waits for background goroutines, this one included, so it
	// must run from a goroutine of its own; it ends when Shutdown returns.
	go func() {
		if err := s.Shutdown(); err != nil {
			s.logger.Printf("[ERR] serf: Failed to shutdown: %v", err)
		}
	}()
}
