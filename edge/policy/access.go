package policy

import "net/netip"

// AccessList is a route's allow and deny lists compiled.
type AccessList struct {
	allow, deny []netip.Prefix
}

func compileAccess(c Access) *AccessList {
	if len(c.Allow) == 0 && len(c.Deny) == 0 {
		return nil
	}
	a := &AccessList{}
	for _, p := range c.Allow {
		a.allow = append(a.allow, p.Masked())
	}
	for _, p := range c.Deny {
		a.deny = append(a.deny, p.Masked())
	}
	return a
}

// Allowed reports whether a client at addr may use the route: not in Deny, and in Allow when
// Allow is not empty. An IPv4-mapped IPv6 address is compared as IPv4.
func (a *AccessList) Allowed(addr netip.Addr) bool {
	if a == nil {
		return true
	}
	addr = addr.Unmap()
	for _, p := range a.deny {
		if p.Contains(addr) {
			return false
		}
	}
	if len(a.allow) == 0 {
		return true
	}
	for _, p := range a.allow {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Overlap returns the first allow and deny prefixes that share addresses, ok=false when none
// do. conf refuses such a list: which of the two an operator meant is not clear.
func Overlap(allow, deny []netip.Prefix) (a, d netip.Prefix, ok bool) {
	for _, a := range allow {
		for _, d := range deny {
			if a.Overlaps(d) {
				return a, d, true
			}
		}
	}
	return netip.Prefix{}, netip.Prefix{}, false
}
