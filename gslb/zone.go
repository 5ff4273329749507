package gslb

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/shoal-cdn/shoal/conf"
)

// Defaults from the conf.GSLB comments, and the fixed zone parameters.
const (
	defaultTTL     = 20
	defaultAnswers = 2
	// maxDefaultNS bounds the ns1..nsN names published when gslb.ns is empty: one per edge,
	// up to this many, which is what resolvers need to survive the loss of a node or two.
	maxDefaultNS = 4
	// infraTTL is for records that change only with the config or cluster size (SOA, NS and the
	// NS hosts' addresses): long enough to spare resolvers, short enough to follow a node loss.
	infraTTL = 300
	// negativeTTL is the SOA MINIMUM: how long resolvers cache NXDOMAIN and NODATA (RFC 2308).
	negativeTTL = 60
	hinfoTTL    = 3600
)

// nameKind is what an owner name in the zone holds.
type nameKind uint8

const (
	kindNone    nameKind = iota // empty non-terminal: exists, holds nothing
	kindService                 // one of gslb.names: A/AAAA from the nearest healthy edges
	kindNSHost                  // a name server host: A/AAAA of one edge (glue)
)

type owner struct {
	kind  nameKind
	index int // for kindNSHost, its position in zone.nsNames
}

// zone is a validated, normalised conf.GSLB. It is immutable after compile.
type zone struct {
	origin   string // lower case, absolute
	ttl      uint32
	answers  int
	nsNames  []string // absolute, lower case
	fixedNS  bool     // gslb.ns was given: publish all of nsNames whatever the edge count
	owners   map[string]owner
	regions  []string // sorted names; the index is the region id
	regionID map[string]int
	near     [][]int // near[id] = ids of the nearest regions, in configured order
	table    cidrTable
	serial   uint32
}

// Validate checks a GSLB section without starting anything, as `shoal check` does. An empty
// section (no listen, no zone) is valid: the DNS server is off.
func Validate(cfg conf.GSLB) error {
	if cfg.Listen == "" && cfg.Zone == "" {
		return nil
	}
	_, err := compile(cfg)
	return err
}

func compile(cfg conf.GSLB) (*zone, error) {
	z := &zone{ttl: defaultTTL, answers: defaultAnswers, owners: map[string]owner{}}
	if cfg.Zone == "" {
		return nil, errors.New("gslb.zone: missing")
	}
	if !strings.HasSuffix(cfg.Zone, ".") {
		return nil, fmt.Errorf("gslb.zone: %q must be absolute, with a trailing dot", cfg.Zone)
	}
	if _, ok := dns.IsDomainName(cfg.Zone); !ok || cfg.Zone == "." || !hostLabels(cfg.Zone) {
		return nil, fmt.Errorf("gslb.zone: %q is not a domain name", cfg.Zone)
	}
	z.origin = asciiLower(cfg.Zone)
	switch {
	case cfg.TTL < 0:
		return nil, fmt.Errorf("gslb.ttl: %d is negative", cfg.TTL)
	case cfg.TTL > 1<<31-1:
		// uint32 below would wrap it, and resolvers read a set top bit as 0 (RFC 2181 section 8).
		return nil, fmt.Errorf("gslb.ttl: %d is above 2147483647 seconds (RFC 2181 section 8)", cfg.TTL)
	case cfg.TTL > 0:
		z.ttl = uint32(cfg.TTL)
	}
	if cfg.Answers != 0 {
		z.answers = cfg.Answers
	}
	if z.answers < 1 {
		return nil, fmt.Errorf("gslb.answers: %d, must be at least 1", cfg.Answers)
	}
	if err := z.compileNS(cfg.NS); err != nil {
		return nil, err
	}
	if err := z.compileNames(cfg.Names); err != nil {
		return nil, err
	}
	if err := z.compileRegions(cfg.Regions); err != nil {
		return nil, err
	}
	z.addEmptyNonTerminals()
	z.serial = z.configSerial()
	return z, nil
}

// absName turns a configured name into an absolute lower-case name inside the zone.
func (z *zone) absName(key, name string) (string, error) {
	abs := name
	switch {
	case name == "@":
		abs = z.origin
	case !strings.HasSuffix(name, "."):
		abs = name + "." + z.origin
	}
	abs = asciiLower(abs)
	if _, ok := dns.IsDomainName(abs); !ok || !hostLabels(abs) {
		return "", fmt.Errorf("%s: %q is not a host name", key, name)
	}
	if !dns.IsSubDomain(z.origin, abs) {
		return "", fmt.Errorf("%s: %q is outside zone %s", key, name, z.origin)
	}
	return abs, nil
}

func (z *zone) compileNS(names []string) error {
	z.fixedNS = len(names) > 0
	if !z.fixedNS {
		for i := 1; i <= maxDefaultNS; i++ {
			names = append(names, "ns"+strconv.Itoa(i))
		}
	}
	for i, n := range names {
		abs, err := z.absName(fmt.Sprintf("gslb.ns[%d]", i), n)
		if err != nil {
			return err
		}
		if abs == z.origin {
			return fmt.Errorf("gslb.ns[%d]: the zone apex cannot be a name server host", i)
		}
		if _, dup := z.owners[abs]; dup {
			return fmt.Errorf("gslb.ns[%d]: %q listed twice", i, n)
		}
		z.owners[abs] = owner{kind: kindNSHost, index: len(z.nsNames)}
		z.nsNames = append(z.nsNames, abs)
	}
	return nil
}

func (z *zone) compileNames(names []string) error {
	for i, n := range names {
		abs, err := z.absName(fmt.Sprintf("gslb.names[%d]", i), n)
		if err != nil {
			return err
		}
		if o, dup := z.owners[abs]; dup {
			if o.kind == kindNSHost {
				return fmt.Errorf("gslb.names[%d]: %q is also a name server host", i, n)
			}
			return fmt.Errorf("gslb.names[%d]: %q listed twice", i, n)
		}
		z.owners[abs] = owner{kind: kindService}
	}
	return nil
}

func (z *zone) compileRegions(regions map[string]*conf.Region) error {
	for name := range regions {
		z.regions = append(z.regions, name)
	}
	slices.Sort(z.regions)
	z.regionID = make(map[string]int, len(z.regions))
	for id, name := range z.regions {
		z.regionID[name] = id
	}
	z.near = make([][]int, len(z.regions))
	for id, name := range z.regions {
		r := regions[name]
		if r == nil {
			continue
		}
		for _, n := range r.Near {
			nid, ok := z.regionID[n]
			if !ok {
				return fmt.Errorf("gslb.regions.%s.near: unknown region %q", name, n)
			}
			if nid != id && !slices.Contains(z.near[id], nid) {
				z.near[id] = append(z.near[id], nid)
			}
		}
		for i, c := range r.CIDRs {
			p, err := netip.ParsePrefix(c)
			if err != nil {
				return fmt.Errorf("gslb.regions.%s.cidrs[%d]: %w", name, i, err)
			}
			z.table.entries = append(z.table.entries, cidrEntry{prefix: p.Masked(), region: id})
		}
	}
	return z.table.build(z.regions)
}

// addEmptyNonTerminals registers the names between the apex and each owner (for www.eu, eu),
// so that they answer NODATA rather than NXDOMAIN, as RFC 8020 requires.
func (z *zone) addEmptyNonTerminals() {
	for name := range z.owners {
		for off, end := dns.NextLabel(name, 0); !end; off, end = dns.NextLabel(name, off) {
			parent := name[off:]
			if len(parent) <= len(z.origin) {
				break
			}
			if _, ok := z.owners[parent]; !ok {
				z.owners[parent] = owner{kind: kindNone}
			}
		}
	}
}

// configSerial derives the SOA serial from the zone's content so that every node with the same
// config publishes the same SOA. Nothing transfers this zone, so the serial need not grow.
func (z *zone) configSerial() uint32 {
	h := fnv.New32a()
	fmt.Fprintln(h, z.origin, z.ttl, z.answers, z.nsNames)
	names := make([]string, 0, len(z.owners))
	for n, o := range z.owners {
		names = append(names, n+strconv.Itoa(int(o.kind)))
	}
	slices.Sort(names)
	fmt.Fprintln(h, names, z.regions, z.near)
	for _, e := range z.table.entries {
		fmt.Fprintln(h, e.prefix, e.region)
	}
	if s := h.Sum32(); s != 0 {
		return s
	}
	return 1
}

// asciiLower lower-cases A-Z only: DNS names compare case-insensitively in ASCII alone, and
// keeping the byte length lets us cut the query's own spelling of the apex out of its name.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + ('a' - 'A')
				}
			}
			return string(b)
		}
	}
	return s
}

// hostLabels reports whether every label of the absolute name is a host name's: letters,
// digits and inner hyphens (RFC 1123 section 2.1), or an underscore for service labels
// (RFC 8552). dns.IsDomainName takes any byte but a dot, so "bad name!" passed it, and a
// name no resolver asks for would have been served. The wildcard is refused here too.
func hostLabels(abs string) bool {
	for label := range strings.SplitSeq(strings.TrimSuffix(abs, "."), ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
