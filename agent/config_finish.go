package agent

import (
	"fmt"
	"math"
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
	if err := c.validateOperability(); err != nil {
		return err
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

// maxBufferSize bounds event_buffer and query_buffer: Serf keeps one slot
// per Lamport time, allocated up front.
const maxBufferSize = 1 << 20

// validateOperability checks the keys we add beyond Serf v0.10.2: queue
// and buffer sizes, the metrics address and the DNS resolver.
func (c *Config) validateOperability() error {
	for _, q := range []struct {
		key      string
		v        int
		min, max int
	}{
		{"max_queue_depth", c.MaxQueueDepth, 0, math.MaxInt32},
		{"min_queue_depth", c.MinQueueDepth, 0, math.MaxInt32},
		{"queue_depth_warning", c.QueueDepthWarning, 0, math.MaxInt32},
		{"event_buffer", c.EventBuffer, 0, maxBufferSize},
		{"query_buffer", c.QueryBuffer, 0, maxBufferSize},
	} {
		if q.v < q.min || q.v > q.max {
			return fmt.Errorf("Invalid %s: %d (must be between 1 and %d, or 0 for the default)", q.key, q.v, q.max)
		}
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return fmt.Errorf("Invalid metrics address: %s", err)
		}
	}
	if c.DNSResolver != "" {
		host, _, err := net.SplitHostPort(c.DNSResolver)
		if err == nil && net.ParseIP(host) == nil {
			err = fmt.Errorf("%q is not an IP address", host)
		}
		if err != nil {
			return fmt.Errorf("Invalid DNS resolver: %s", err)
		}
	}
	if c.EventHandlerTimeout < 0 {
		return fmt.Errorf("Invalid event handler timeout: %v", c.EventHandlerTimeout)
	}
	return nil
}
