package vip

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// LinkAddrs is the real Netlink: it changes the addresses of one interface through an
// rtnetlink handle. It looks the interface up on every call, so an interface that is
// recreated (same name, new index) keeps working.
type LinkAddrs struct {
	h     *netlink.Handle
	iface string
}

// NewLinkAddrs manages the addresses of the interface called iface through h; a nil h works
// in the network namespace of the calling thread (pass netlink.NewHandleAt(ns) for another).
func NewLinkAddrs(h *netlink.Handle, iface string) *LinkAddrs {
	if h == nil {
		h = &netlink.Handle{}
	}
	return &LinkAddrs{h: h, iface: iface}
}

// AddrAdd puts p on the interface. IPv6 addresses skip duplicate address detection: the
// address is ours by agreement, and waiting for DAD would keep it unusable for a second
// (or forever, if the old holder is still answering).
func (l *LinkAddrs) AddrAdd(p netip.Prefix) error {
	link, err := l.h.LinkByName(l.iface)
	if err != nil {
		return fmt.Errorf("interface %s: %w", l.iface, err)
	}
	a := toNetlinkAddr(p)
	if p.Addr().Is6() {
		a.Flags = unix.IFA_F_NODAD
	}
	// A lease, renewed every LeaseRefresh while held: if this process dies (SIGKILL, OOM) the
	// kernel drops the address by itself, so the dead host stops answering ARP for it.
	a.ValidLft, a.PreferedLft = int(Lease/time.Second), int(Lease/time.Second)
	if err := l.h.AddrReplace(link, a); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add %s to %s: %w", p, l.iface, err)
	}
	return nil
}

// AddrDel removes p from the interface.
func (l *LinkAddrs) AddrDel(p netip.Prefix) error {
	link, err := l.h.LinkByName(l.iface)
	if err != nil {
		return fmt.Errorf("interface %s: %w", l.iface, err)
	}
	if err := l.h.AddrDel(link, toNetlinkAddr(p)); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
		return fmt.Errorf("remove %s from %s: %w", p, l.iface, err)
	}
	return nil
}

func toNetlinkAddr(p netip.Prefix) *netlink.Addr {
	addr := p.Addr().Unmap()
	return &netlink.Addr{IPNet: &net.IPNet{
		IP:   net.IP(addr.AsSlice()),
		Mask: net.CIDRMask(p.Bits(), addr.BitLen()),
	}}
}
