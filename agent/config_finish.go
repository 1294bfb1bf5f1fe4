package agent

import (
	"fmt"
	"net"
	"os"
	"time"
)

// Lower bounds applied (with a warning) to configured intervals.
const (
	minRetryInterval    = time.Second
	minBroadcastTimeout = time.Second
)

// Finish completes a merged configuration the way `serf agent` does before
// starting: default node name, validation of handler filters, interfaces
// and mDNS settings, the deprecated role turned into a tag, and floors on
// the retry interval and broadcast timeout. warn receives the warnings
// (printed with "==> " by the command); the error is the one-line message
// that aborts startup.
func (c *Config) Finish(warn func(string)) error {
	if c.NodeName == "" {
		host, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("Error determining hostname: %s", err)
		}
		c.NodeName = host
	}
	for _, s := range c.EventScripts() {
		if !s.Valid() {
			return fmt.Errorf("Invalid event script: %s", s.String())
		}
	}
	if _, err := c.NetworkInterface(); err != nil {
		return fmt.Errorf("Invalid network interface: %s", err)
	}
	if c.MDNS.Interface != "" {
		if c.Discover == "" {
			return fmt.Errorf("mDNS interface specified without enabling mDNS discovery")
		}
		if _, err := net.InterfaceByName(c.MDNS.Interface); err != nil {
			return fmt.Errorf("Invalid mDNS network interface: %s", err)
		}
		if c.MDNS.DisableIPv4 && c.MDNS.DisableIPv6 {
			return fmt.Errorf("Invalid mDNS configuration: both IPv4 and IPv6 are disabled")
		}
	}
	if c.Role != "" {
		warn("Deprecation warning: 'Role' has been replaced with 'Tags'")
		if c.Tags == nil {
			c.Tags = make(map[string]string)
		}
		c.Tags["role"] = c.Role
	}
	if c.RetryInterval < minRetryInterval {
		c.RetryInterval = minRetryInterval
		warn(fmt.Sprintf("Warning: 'RetryInterval' is too low. Setting to %v", c.RetryInterval))
	}
	if c.BroadcastTimeout < minBroadcastTimeout {
		c.BroadcastTimeout = minBroadcastTimeout
		warn(fmt.Sprintf("Warning: 'BroadcastTimeout' is too low. Setting to %v", c.BroadcastTimeout))
	}
	if c.RejoinAfterLeave && c.SnapshotPath == "" {
		warn("Warning: 'RejoinAfterLeave' enabled without snapshot file")
	}
	return nil
}
