package agent

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// SRVPrefix marks a join address that is a DNS SRV name:
// "dns+srv://_serf._udp.example.internal" joins every target:port the
// name's SRV records list. No host name can start like this.
const SRVPrefix = "dns+srv://"

// dnsLookupTimeout bounds the look-ups of one join address.
const dnsLookupTimeout = 10 * time.Second

// joinResolver is the resolver for join addresses: Go's own resolver
// talking only to dns_resolver when that is set, the system's otherwise.
func (c *Config) joinResolver() *net.Resolver {
	if c.DNSResolver == "" {
		return net.DefaultResolver
	}
	server := c.DNSResolver
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, server)
		},
	}
}

// resolveJoinAddrs expands join addresses, afresh at every call (every
// join attempt): an SRV address becomes every target:port its records
// list, each target resolved to all its IPs; with dns_resolver set, a host
// name becomes every IP it resolves to (the port, and a "node/" prefix,
// kept). Without either, addrs are returned as they are and memberlist
// resolves host names itself, as in Serf. Names that do not resolve are
// logged and skipped; when nothing is left the error says why.
func (a *Agent) resolveJoinAddrs(addrs []string) ([]string, error) {
	useResolver := a.conf.DNSResolver != ""
	plain := !useResolver
	for _, addr := range addrs {
		if strings.HasPrefix(addr, SRVPrefix) {
			plain = false
		}
	}
	if plain {
		return addrs, nil
	}
	r := a.conf.joinResolver()
	var out []string
	var errs []string
	for _, addr := range addrs {
		ctx, cancel := context.WithTimeout(context.Background(), dnsLookupTimeout)
		got, err := expandJoinAddr(ctx, r, addr, useResolver)
		cancel()
		if err != nil {
			a.logger.Printf("[WARN] agent: Failed to resolve %s: %v", addr, err)
			errs = append(errs, err.Error())
			continue
		}
		out = append(out, got...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no join address resolved: %s", strings.Join(errs, "; "))
	}
	return out, nil
}

// expandJoinAddr expands one join address (see resolveJoinAddrs).
func expandJoinAddr(ctx context.Context, r *net.Resolver, addr string, resolveHosts bool) ([]string, error) {
	if name, ok := strings.CutPrefix(addr, SRVPrefix); ok {
		_, srvs, err := r.LookupSRV(ctx, "", "", name)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, srv := range srvs {
			host := strings.TrimSuffix(srv.Target, ".")
			port := strconv.Itoa(int(srv.Port))
			ips, err := lookupIPs(ctx, r, host)
			if err != nil {
				// Leave the name to memberlist.
				out = append(out, net.JoinHostPort(host, port))
				continue
			}
			for _, ip := range ips {
				out = append(out, net.JoinHostPort(ip, port))
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("no SRV records for %s", name)
		}
		return out, nil
	}
	if !resolveHosts {
		return []string{addr}, nil
	}
	prefix, hostPort := "", addr
	if i := strings.LastIndexByte(addr, '/'); i >= 0 {
		prefix, hostPort = addr[:i+1], addr[i+1:]
	}
	host, port := hostPort, ""
	if h, p, err := net.SplitHostPort(hostPort); err == nil {
		host, port = h, p
	}
	host = strings.Trim(host, "[]")
	if net.ParseIP(host) != nil {
		return []string{addr}, nil
	}
	ips, err := lookupIPs(ctx, r, host)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ips))
	for _, ip := range ips {
		if port != "" {
			out = append(out, prefix+net.JoinHostPort(ip, port))
		} else {
			out = append(out, prefix+ip) // memberlist adds its bind port
		}
	}
	return out, nil
}

// lookupIPs returns every address of host (an IP is its own).
func lookupIPs(ctx context.Context, r *net.Resolver, host string) ([]string, error) {
	if net.ParseIP(host) != nil {
		return []string{host}, nil
	}
	ips, err := r.LookupHost(ctx, host)
	if err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("no addresses for %s", host)
	}
	return ips, nil
}
