package serf

import (
	"fmt"

	"github.com/serf-clone/serf/serf/coordinate"
)

// GetCoordinate returns this node's current network coordinate.
func (s *Serf) GetCoordinate() (*coordinate.Coordinate, error) {
	if s.coordClient == nil {
		return nil, fmt.Errorf("Coordinates are disabled")
	}
	return s.coordClient.GetCoordinate(), nil
}

// GetCachedCoordinate returns the last coordinate heard from the named node
// (or our own), and whether there is one.
func (s *Serf) GetCachedCoordinate(name string) (*coordinate.Coordinate, bool) {
	if s.coordClient == nil {
		return nil, false
	}
	s.coordCacheLock.RLock()
	defer s.coordCacheLock.RUnlock()
	c, ok := s.coordCache[name]
	return c, ok
}
