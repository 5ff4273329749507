//go:build !linux

package vip

import (
	"fmt"
	"net/netip"
	"runtime"

	"github.com/vishvananda/netlink"
)

// LinkAddrs stands in for the rtnetlink one on systems without rtnetlink: every call
// fails, so a Manager with VIPs refuses to start rather than holding nothing.
type LinkAddrs struct{ iface string }

// NewLinkAddrs returns a LinkAddrs whose calls fail: VIPs need Linux.
func NewLinkAddrs(_ *netlink.Handle, iface string) *LinkAddrs { return &LinkAddrs{iface: iface} }

// AddrAdd fails: VIPs need Linux.
func (l *LinkAddrs) AddrAdd(p netip.Prefix) error { return l.unsupported(p) }

// AddrDel fails: VIPs need Linux.
func (l *LinkAddrs) AddrDel(p netip.Prefix) error { return l.unsupported(p) }

func (l *LinkAddrs) unsupported(p netip.Prefix) error {
	return fmt.Errorf("%s on %s: %w", p, l.iface, errUnsupported)
}

// errUnsupported is what VIPs give on a system other than Linux.
var errUnsupported = fmt.Errorf("virtual IPs are not supported on %s (Linux only)", runtime.GOOS)
