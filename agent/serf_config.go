package agent

import (
	"fmt"
	"net"
	"time"

	"github.com/serf-clone/serf/serf"
)

// The agent always coalesces member and user events with these windows;
// they are not configurable, as in Serf v0.10.2.
const (
	coalescePeriod  = 3 * time.Second
	quiescentPeriod = time.Second
)

// SerfConfig maps the agent configuration onto a fresh serf.Config: the
// memberlist profile, bind and advertise addresses (after -iface
// resolution), the encryption key, node name, tags, snapshot, protocol,
// size limits, timeouts and the fixed event coalescing. It does not change
// c. The tags file and keyring file are read later, by Create. Errors carry
// the exact text the agent command prints.
func (c *Config) SerfConfig() (*serf.Config, error) {
	bindIP, bindPort, err := c.bindAddr()
	if err != nil {
		return nil, err
	}
	var advIP string
	var advPort int
	if c.AdvertiseAddr != "" {
		if advIP, advPort, err = c.AddrParts(c.AdvertiseAddr); err != nil {
			return nil, fmt.Errorf("Invalid advertise address: %s", err)
		}
	}
	key, err := c.EncryptBytes()
	if err != nil {
		return nil, fmt.Errorf("Invalid encryption key: %s", err)
	}
	ml, err := serf.MemberlistProfile(c.Profile)
	if err != nil {
		return nil, err
	}
	ml.BindAddr, ml.BindPort = bindIP, bindPort
	ml.AdvertiseAddr, ml.AdvertisePort = advIP, advPort
	ml.SecretKey = key
	ml.EnableCompression = c.EnableCompression

	sc := serf.DefaultConfig()
	sc.MemberlistConfig = ml
	sc.NodeName = c.NodeName
	sc.Tags = copyTags(c.Tags)
	sc.SnapshotPath = c.SnapshotPath
	sc.KeyringFile = c.KeyringFile
	sc.ProtocolVersion = uint8(c.Protocol)
	sc.RejoinAfterLeave = c.RejoinAfterLeave
	sc.EnableNameConflictResolution = !c.DisableNameResolution
	sc.QueryResponseSizeLimit = c.QueryResponseSizeLimit
	sc.QuerySizeLimit = c.QuerySizeLimit
	sc.UserEventSizeLimit = c.UserEventSizeLimit
	sc.CoalescePeriod, sc.QuiescentPeriod = coalescePeriod, quiescentPeriod
	sc.UserCoalescePeriod, sc.UserQuiescentPeriod = coalescePeriod, quiescentPeriod
	// Zero means "not set" for these: Serf's defaults stay.
	for _, d := range []struct{ from, to *time.Duration }{
		{&c.ReconnectInterval, &sc.ReconnectInterval},
		{&c.ReconnectTimeout, &sc.ReconnectTimeout},
		{&c.TombstoneTimeout, &sc.TombstoneTimeout},
		{&c.BroadcastTimeout, &sc.BroadcastTimeout},
	} {
		if *d.from != 0 {
			*d.to = *d.from
		}
	}
	// Recovery (serf#605): zero keeps the default, negative turns it off.
	if c.RejoinReapedInterval != 0 {
		sc.RejoinReapedInterval = max(c.RejoinReapedInterval, 0)
	}
	if c.AddressBookSize != 0 {
		sc.AddressBookSize = max(c.AddressBookSize, 0)
	}
	for _, q := range []struct{ from, to *int }{
		{&c.MaxQueueDepth, &sc.MaxQueueDepth},
		{&c.MinQueueDepth, &sc.MinQueueDepth},
		{&c.QueueDepthWarning, &sc.QueueDepthWarning},
		{&c.EventBuffer, &sc.EventBuffer},
		{&c.QueryBuffer, &sc.QueryBuffer},
	} {
		if *q.from != 0 {
			*q.to = *q.from
		}
	}
	return sc, nil
}

// copyTags returns a map of its own with the same tags (never nil).
func copyTags(tags map[string]string) map[string]string {
	out := make(map[string]string, len(tags))
	for k, v := range tags {
		out[k] = v
	}
	return out
}

// ResolveInterface applies -iface to the bind address. With a wildcard
// bind address it rewrites c.BindAddr to the interface's first usable
// address and returns that IP (the command announces it); otherwise it
// only checks the interface has the bind address and returns "".
func (c *Config) ResolveInterface() (string, error) {
	ip, port, err := c.bindAddr()
	if err != nil {
		return "", err
	}
	if orig, _, _ := c.AddrParts(c.BindAddr); ip == orig {
		return "", nil
	}
	c.BindAddr = (&net.TCPAddr{IP: net.ParseIP(ip), Port: port}).String()
	return ip, nil
}

// bindAddr is the IP and port to bind gossip to: the bind address, with a
// wildcard IP replaced by the configured interface's address.
func (c *Config) bindAddr() (string, int, error) {
	ip, port, err := c.AddrParts(c.BindAddr)
	if err != nil {
		return "", 0, fmt.Errorf("Invalid bind address: %s", err)
	}
	iface, _ := c.NetworkInterface()
	if iface == nil {
		return ip, port, nil
	}
	ip, err = interfaceIP(iface, ip)
	if err != nil {
		return "", 0, err
	}
	return ip, port, nil
}

// interfaceIP picks the address of iface to bind to. For the wildcard
// "0.0.0.0" that is its first address that is not link-local; for any
// other bindIP, iface must carry it.
func interfaceIP(iface *net.Interface, bindIP string) (string, error) {
	addrs, err := iface.Addrs()
	if err != nil {
		return "", fmt.Errorf("Failed to get interface addresses: %s", err)
	}
	if len(addrs) == 0 {
		return "", fmt.Errorf("Interface '%s' has no addresses", iface.Name)
	}
	if bindIP != "0.0.0.0" {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.String() == bindIP {
				return bindIP, nil
			}
		}
		return "", fmt.Errorf("Interface '%s' has no '%s' address", iface.Name, bindIP)
	}
	for _, a := range addrs {
		if ip := addrIP(a); ip != nil && !ip.IsLinkLocalUnicast() {
			return ip.String(), nil
		}
	}
	return "", fmt.Errorf("Failed to find usable address for interface '%s'", iface.Name)
}

// addrIP is the IP of an interface address, nil for unknown kinds.
func addrIP(a net.Addr) net.IP {
	switch v := a.(type) {
	case *net.IPNet:
		return v.IP
	case *net.IPAddr:
		return v.IP
	}
	return nil
}
