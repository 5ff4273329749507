package conf

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"
)

// maxUDPThreads bounds gslb.udp_threads: each blocking reader holds a thread and one of
// the runtime's Ps for as long as the server listens.
const maxUDPThreads = 256

// maxTTL is the largest TTL a DNS answer may carry (RFC 2181 section 8: 2^31 - 1 seconds).
const maxTTL = 1<<31 - 1

func (v *validator) gslb(g *GSLB) {
	if g.Listen == "" {
		return
	}
	v.hostPort("gslb.listen", g.Listen)
	if g.Zone == "" {
		v.fail("gslb.zone", "missing")
	} else if !strings.HasSuffix(g.Zone, ".") {
		v.fail("gslb.zone", "%q must be absolute, with a trailing dot (%q)", g.Zone, g.Zone+".")
	}
	g.Zone = strings.ToLower(g.Zone)
	if g.TTL == 0 {
		g.TTL = 20
	}
	if g.Answers == 0 {
		g.Answers = 2
	}
	v.notNegative("gslb.ttl", g.TTL)
	v.notNegative("gslb.answers", g.Answers)
	if g.TTL > maxTTL {
		// Resolvers read a TTL with the top bit set as 0 (RFC 2181 section 8); above 2^32 it
		// wrapped in the answer's 32 bits.
		v.fail("gslb.ttl", "%d is above %d seconds (RFC 2181 section 8)", g.TTL, maxTTL)
	}
	if g.UDPThreads < 0 || g.UDPThreads > maxUDPThreads {
		v.fail("gslb.udp_threads", "%d is out of range: 0 (one per CPU) to %d", g.UDPThreads, maxUDPThreads)
	}
	if len(g.Names) == 0 {
		v.fail("gslb.names", "no names to answer for")
	}
	type owned struct {
		prefix netip.Prefix
		key    string
	}
	var all []owned
	for _, name := range sortedKeys(g.Regions) {
		r := g.Regions[name]
		key := "gslb.regions." + name
		if r == nil {
			continue
		}
		for i, c := range r.CIDRs {
			p, err := netip.ParsePrefix(c)
			if err != nil {
				v.fail(fmt.Sprintf("%s.cidrs[%d]", key, i), "%q is not a CIDR", c)
				continue
			}
			all = append(all, owned{p.Masked(), fmt.Sprintf("%s.cidrs[%d]", key, i)})
		}
		for i, near := range r.Near {
			if _, ok := g.Regions[near]; !ok {
				v.fail(fmt.Sprintf("%s.near[%d]", key, i), "unknown region %q", near)
			}
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].key < all[j].key })
	for i := range all {
		for j := i + 1; j < len(all); j++ {
			if all[i].prefix.Overlaps(all[j].prefix) {
				v.fail(all[j].key, "%s overlaps %s (%s)", all[j].prefix, all[i].key, all[i].prefix)
			}
		}
	}
}

func (v *validator) vip(p *VIP, c *Config) {
	if len(p.Addresses) == 0 {
		return
	}
	if p.Interface == "" {
		v.fail("vip.interface", "missing: the interface the addresses go on")
	} else if _, err := net.InterfaceByName(p.Interface); err != nil {
		v.fail("vip.interface", "%q: %v", p.Interface, err)
	}
	seen := map[netip.Addr]bool{}
	for i, a := range p.Addresses {
		key := fmt.Sprintf("vip.addresses[%d]", i)
		pfx, err := netip.ParsePrefix(a)
		if err != nil {
			v.fail(key, "%q is not an address with its prefix, such as 192.0.2.100/24", a)
			continue
		}
		if seen[pfx.Addr()] {
			v.fail(key, "%s is listed twice", pfx.Addr())
		}
		seen[pfx.Addr()] = true
		if c.Node.PublicAddr != "" && pfx.Addr().String() == c.Node.PublicAddr {
			v.fail(key, "%s is this node's own public_addr", pfx.Addr())
		}
	}
}
