package vip

import "net/netip"

// Netlink adds and removes addresses on the VIP interface. Both methods are idempotent:
// adding an address that is present, or removing one that is absent, is not an error. The
// Manager calls them only from its own goroutine (and from New), never concurrently.
type Netlink interface {
	AddrAdd(p netip.Prefix) error
	AddrDel(p netip.Prefix) error
}
