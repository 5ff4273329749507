package vip

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/shoal-cdn/shoal/conf"
)

// Validate checks a vip section for `shoal check`: the interface exists on this host, every
// address parses as an address with its prefix (192.0.2.100/24), and no address is listed
// twice. An empty section is valid (no VIPs).
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
