package vip

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
)

// Ethernet and protocol constants for the announcement frames.
const (
	etherTypeARP   = 0x0806
	etherTypeIPv6  = 0x86dd
	etherHeaderLen = 14
	// minFrameLen is the shortest Ethernet frame without its FCS; shorter frames are padded
	// so strict switches do not drop them as runts.
	minFrameLen = 60

	arpOpRequest = 1
	arpLen       = 28

	ipv6HeaderLen      = 40
	protoICMPv6        = 58
	icmpNeighborAdvert = 136
	naFlagOverride     = 0x20000000
	naLen              = 24 // type, code, checksum, flags, target
	optTargetLinkLayer = 2
	optLinkLayerLen    = 8
	ndHopLimit         = 255 // receivers drop neighbour discovery that crossed a router
)

var (
	broadcastMAC = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	// allNodesMAC is the Ethernet multicast address of ff02::1 (33:33 + its last 32 bits).
	allNodesMAC  = net.HardwareAddr{0x33, 0x33, 0x00, 0x00, 0x00, 0x01}
	allNodesAddr = netip.MustParseAddr("ff02::1")
)

var errNotEthernet = errors.New("not a 6-byte Ethernet address")

// gratuitousARP builds an ARP announcement (RFC 5227 §2.3): a broadcast request whose sender
// and target protocol addresses are both vip. Linux and most stacks treat it as gratuitous
// and replace an existing neighbour entry at once, even within the entry's locktime.
func gratuitousARP(mac net.HardwareAddr, vip netip.Addr) ([]byte, error) {
	if len(mac) != 6 {
		return nil, errNotEthernet
	}
	if !vip.Is4() {
		return nil, errors.New("gratuitous ARP needs an IPv4 address")
	}
	f := make([]byte, minFrameLen)
	copy(f[0:6], broadcastMAC)
	copy(f[6:12], mac)
	binary.BigEndian.PutUint16(f[12:14], etherTypeARP)
	a := f[etherHeaderLen:]
	binary.BigEndian.PutUint16(a[0:2], 1)      // hardware type: Ethernet
	binary.BigEndian.PutUint16(a[2:4], 0x0800) // protocol type: IPv4
	a[4], a[5] = 6, 4
	binary.BigEndian.PutUint16(a[6:8], arpOpRequest)
	ip := vip.As4()
	copy(a[8:14], mac)
	copy(a[14:18], ip[:])
	// a[18:24], the target hardware address, stays zero as RFC 5227 asks.
	copy(a[24:28], ip[:])
	return f, nil
}

// unsolicitedNA builds an unsolicited neighbour advertisement for vip (RFC 4861 §7.2.6) to
// all nodes, with the Override flag so receivers replace the link-layer address they cached,
// and the target link-layer address option carrying mac. The source is vip itself, as Linux
// does for its own unsolicited advertisements.
func unsolicitedNA(mac net.HardwareAddr, vip netip.Addr) ([]byte, error) {
	if len(mac) != 6 {
		return nil, errNotEthernet
	}
	if !vip.Is6() || vip.Is4In6() {
		return nil, errors.New("neighbour advertisement needs an IPv6 address")
	}
	payloadLen := naLen + optLinkLayerLen
	f := make([]byte, etherHeaderLen+ipv6HeaderLen+payloadLen)
	copy(f[0:6], allNodesMAC)
	copy(f[6:12], mac)
	binary.BigEndian.PutUint16(f[12:14], etherTypeIPv6)

	ip6 := f[etherHeaderLen:]
	ip6[0] = 6 << 4 // version 6, traffic class and flow label 0
	binary.BigEndian.PutUint16(ip6[4:6], uint16(payloadLen))
	ip6[6] = protoICMPv6
	ip6[7] = ndHopLimit
	src, dst := vip.As16(), allNodesAddr.As16()
	copy(ip6[8:24], src[:])
	copy(ip6[24:40], dst[:])

	icmp := ip6[ipv6HeaderLen:]
	icmp[0] = icmpNeighborAdvert
	binary.BigEndian.PutUint32(icmp[4:8], naFlagOverride)
	copy(icmp[8:24], src[:])
	icmp[24] = optTargetLinkLayer
	icmp[25] = 1 // option length in units of 8 bytes
	copy(icmp[26:32], mac)
	binary.BigEndian.PutUint16(icmp[2:4], icmpv6Checksum(src, dst, icmp))
	return f, nil
}

// icmpv6Checksum is the Internet checksum over the IPv6 pseudo-header (source, destination,
// upper-layer length, next header) and msg, whose checksum field must be zero or, when
// verifying, the transmitted value (the result is then 0).
func icmpv6Checksum(src, dst [16]byte, msg []byte) uint16 {
	var sum uint32
	add := func(b []byte) {
		for len(b) >= 2 {
			sum += uint32(binary.BigEndian.Uint16(b))
			b = b[2:]
		}
		if len(b) == 1 {
			sum += uint32(b[0]) << 8
		}
	}
	add(src[:])
	add(dst[:])
	var tail [8]byte
	binary.BigEndian.PutUint32(tail[0:4], uint32(len(msg)))
	tail[7] = protoICMPv6
	add(tail[:])
	add(msg)
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}
