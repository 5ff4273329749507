package vip

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/mdlayher/packet"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Announcer tells the local network segment that this host now answers for an address. The
// Manager calls Announce only from its own goroutine, never concurrently with itself; it
// should return within a few milliseconds (one packet, no waiting for replies).
type Announcer interface {
	Announce(addr netip.Addr) error
}

// AnnouncerFunc adapts a function to Announcer.
type AnnouncerFunc func(addr netip.Addr) error

// Announce calls f(addr).
func (f AnnouncerFunc) Announce(addr netip.Addr) error { return f(addr) }

// PacketAnnouncer sends gratuitous ARP and unsolicited neighbour advertisements through
// AF_PACKET sockets on one interface. The sockets are opened by NewPacketAnnouncer and belong
// to the network namespace of the calling thread at that moment, so an announcer for another
// namespace is made by calling NewPacketAnnouncer from a thread switched into it. Announce is
// safe for concurrent use (each call writes one whole frame).
type PacketAnnouncer struct {
	mac       net.HardwareAddr
	arp, ipv6 *packet.Conn
	ifaceName string
}

// NewPacketAnnouncer opens the sockets on the interface called name. It needs CAP_NET_RAW.
func NewPacketAnnouncer(name string) (*PacketAnnouncer, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return nil, fmt.Errorf("vip: announcer: %w", err)
	}
	if len(ifi.HardwareAddr) != 6 {
		return nil, fmt.Errorf("vip: announcer: interface %s has no Ethernet address", name)
	}
	a := &PacketAnnouncer{mac: ifi.HardwareAddr, ifaceName: name}
	// The sockets only send: a filter that drops every packet before bind keeps incoming
	// ARP and IPv6 traffic from piling up in receive buffers nobody reads.
	cfg := &packet.Config{Filter: []bpf.RawInstruction{{Op: unix.BPF_RET | unix.BPF_K, K: 0}}}
	if a.arp, err = packet.Listen(ifi, packet.Raw, etherTypeARP, cfg); err != nil {
		return nil, fmt.Errorf("vip: announcer on %s: %w", name, err)
	}
	if a.ipv6, err = packet.Listen(ifi, packet.Raw, etherTypeIPv6, cfg); err != nil {
		_ = a.arp.Close()
		return nil, fmt.Errorf("vip: announcer on %s: %w", name, err)
	}
	return a, nil
}

// HardwareAddr is the link-layer address announcements carry.
func (a *PacketAnnouncer) HardwareAddr() net.HardwareAddr { return a.mac }

// Announce sends one gratuitous ARP for an IPv4 addr, or one unsolicited neighbour
// advertisement for an IPv6 addr.
func (a *PacketAnnouncer) Announce(addr netip.Addr) error {
	addr = addr.Unmap()
	var (
		frame []byte
		err   error
		conn  *packet.Conn
		dst   net.HardwareAddr
	)
	if addr.Is4() {
		frame, err = gratuitousARP(a.mac, addr)
		conn, dst = a.arp, broadcastMAC
	} else {
		frame, err = unsolicitedNA(a.mac, addr)
		conn, dst = a.ipv6, allNodesMAC
	}
	if err != nil {
		return fmt.Errorf("announce %s: %w", addr, err)
	}
	if _, err := conn.WriteTo(frame, &packet.Addr{HardwareAddr: dst}); err != nil {
		return fmt.Errorf("announce %s on %s: %w", addr, a.ifaceName, err)
	}
	return nil
}

// Close closes the sockets.
func (a *PacketAnnouncer) Close() error {
	return errors.Join(a.arp.Close(), a.ipv6.Close())
}
