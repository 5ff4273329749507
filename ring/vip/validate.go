package vip

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/shoal-cdn/shoal/conf"
)

// Validate checks a vip section for `shoal check`: the interface exists on this host, every
// address parses as an address with its prefix (192.0.2.100/24) that clients can be sent to
// (unusable), and no address is listed twice. An empty section is valid (no VIPs).
func Validate(cfg conf.VIP) error {
	_, err := parseConfig(cfg)
	if err != nil {
		return err
	}
	if len(cfg.Addresses) == 0 {
		return nil
	}
	if _, err := net.InterfaceByName(cfg.Interface); err != nil {
		return fmt.Errorf("vip.interface: %q: %w", cfg.Interface, err)
	}
	return nil
}

// parseConfig turns the configured addresses into prefixes, in order.
func parseConfig(cfg conf.VIP) ([]netip.Prefix, error) {
	if len(cfg.Addresses) > 0 && cfg.Interface == "" {
		return nil, errors.New("vip.interface: missing: the interface the addresses go on")
	}
	var errs []error
	out := make([]netip.Prefix, 0, len(cfg.Addresses))
	seen := map[netip.Addr]int{}
	for i, s := range cfg.Addresses {
		p, err := netip.ParsePrefix(s)
		if err != nil || p.Addr().Zone() != "" || p.Addr().Is4In6() {
			errs = append(errs, fmt.Errorf("vip.addresses[%d]: %q is not an address with its prefix, such as 192.0.2.100/24", i, s))
			continue
		}
		if why := unusable(p); why != "" {
			errs = append(errs, fmt.Errorf("vip.addresses[%d]: %s %s", i, s, why))
			continue
		}
		if j, dup := seen[p.Addr()]; dup {
			errs = append(errs, fmt.Errorf("vip.addresses[%d]: %s is listed twice (also vip.addresses[%d])", i, p.Addr(), j))
			continue
		}
		seen[p.Addr()] = i
		out = append(out, p)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// unusable says why p can never be a virtual address clients are sent to, "" when it can:
// an unspecified, loopback, multicast or link-local address, or the network or broadcast
// address of an IPv4 prefix shorter than /31 (RFC 3021). Loopback matters twice: New removes
// every VIP from the interface at start, so 127.0.0.1/8 on lo would take loopback away from
// the host.
func unusable(p netip.Prefix) string {
	a := p.Addr()
	switch {
	case a.IsUnspecified():
		return "is the unspecified address"
	case a.IsLoopback():
		return "is a loopback address"
	case a.IsMulticast():
		return "is a multicast address"
	case a.IsLinkLocalUnicast():
		return "is a link-local address"
	}
	if a.Is4() && p.Bits() < 31 {
		network := p.Masked().Addr()
		if a == network {
			return fmt.Sprintf("is the network address of %s", p.Masked())
		}
		b := network.As4()
		host := uint32(1)<<(32-p.Bits()) - 1
		v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) | host
		if a == netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}) {
			return fmt.Sprintf("is the broadcast address of %s", p.Masked())
		}
	}
	return ""
}
