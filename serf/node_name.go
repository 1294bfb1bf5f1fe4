package serf

import (
	"fmt"
	"regexp"
)

// invalidNodeNameChars matches what Config.ValidateNodeNames rejects.
// Compiled once, never written.
var invalidNodeNameChars = regexp.MustCompile(`[^A-Za-z0-9\-\.]+`)

// ValidateNodeNames checks this node's name against the rules of
// Config.ValidateNodeNames; with that option off it always succeeds.
func (s *Serf) ValidateNodeNames() error {
	return s.validateNodeName(s.config.NodeName)
}

// validateNodeName returns the error upstream Serf gives for name when
// Config.ValidateNodeNames is on.
func (s *Serf) validateNodeName(name string) error {
	if !s.config.ValidateNodeNames {
		return nil
	}
	if invalidNodeNameChars.MatchString(name) {
		return fmt.Errorf("Node name contains invalid characters %v , Valid characters include "+
			"all alpha-numerics and dashes and '.' ", name)
	}
	if len(name) > MaxNodeNameLength {
		return fmt.Errorf("Node name is %v characters. "+
			"Valid length is between 1 and 128 characters", len(name))
	}
	return nil
}
