package vip

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
)

var testMAC = net.HardwareAddr{0x02, 0x00, 0x5e, 0x10, 0x20, 0x30}

func TestGratuitousARP_isABroadcastAnnouncementOfTheVIP(t *testing.T) {
	vip := netip.MustParseAddr("10.250.0.100")
	f, err := gratuitousARP(testMAC, vip)
	if err != nil {
		t.Fatal(err)
	}
	ip := vip.As4()
	checks := []struct {
		what      string
		got, want []byte
	}{
		{"destination MAC (broadcast)", f[0:6], broadcastMAC},
		{"source MAC", f[6:12], testMAC},
		{"ethertype ARP", f[12:14], []byte{0x08, 0x06}},
		{"hardware type Ethernet", f[14:16], []byte{0, 1}},
		{"protocol type IPv4", f[16:18], []byte{0x08, 0x00}},
		{"address lengths", f[18:20], []byte{6, 4}},
		{"opcode request", f[20:22], []byte{0, 1}},
		{"sender MAC", f[22:28], testMAC},
		{"sender IP = VIP", f[28:32], ip[:]},
		{"target MAC zero", f[32:38], make([]byte, 6)},
		{"target IP = VIP", f[38:42], ip[:]},
	}
	for _, c := range checks {
		if !bytes.Equal(c.got, c.want) {
			t.Errorf("%s: % x, want % x", c.what, c.got, c.want)
		}
	}
	if len(f) != minFrameLen {
		t.Errorf("frame is %d bytes, want padded to %d", len(f), minFrameLen)
	}
}

func TestUnsolicitedNA_isAnOverridingAdvertisementToAllNodes(t *testing.T) {
	vip := netip.MustParseAddr("fd00:5:6::100")
	f, err := unsolicitedNA(testMAC, vip)
	if err != nil {
		t.Fatal(err)
	}
	v16, all := vip.As16(), allNodesAddr.As16()
	ip6, icmp := f[14:54], f[54:]
	checks := []struct {
		what      string
		got, want []byte
	}{
		{"destination MAC (33:33:00:00:00:01)", f[0:6], allNodesMAC},
		{"source MAC", f[6:12], testMAC},
		{"ethertype IPv6", f[12:14], []byte{0x86, 0xdd}},
		{"version 6", []byte{ip6[0] >> 4}, []byte{6}},
		{"payload length", ip6[4:6], []byte{0, 32}},
		{"next header ICMPv6, hop limit 255", ip6[6:8], []byte{58, 255}},
		{"source = VIP", ip6[8:24], v16[:]},
		{"destination ff02::1", ip6[24:40], all[:]},
		{"type 136 code 0", icmp[0:2], []byte{136, 0}},
		{"flags: Override only", icmp[4:8], []byte{0x20, 0, 0, 0}},
		{"target = VIP", icmp[8:24], v16[:]},
		{"option: target link-layer, 8 bytes", icmp[24:26], []byte{2, 1}},
		{"option MAC", icmp[26:32], testMAC},
	}
	for _, c := range checks {
		if !bytes.Equal(c.got, c.want) {
			t.Errorf("%s: % x, want % x", c.what, c.got, c.want)
		}
	}
	if len(icmp) != 32 {
		t.Errorf("ICMPv6 message is %d bytes, want 32", len(icmp))
	}
	if binary.BigEndian.Uint16(icmp[2:4]) == 0 {
		t.Error("checksum not filled in")
	}
	if got := icmpv6Checksum(v16, all, icmp); got != 0 {
		t.Errorf("checksum does not verify: residue %#04x", got)
	}
	icmp[30] ^= 0x01 // one flipped bit must break it
	if icmpv6Checksum(v16, all, icmp) == 0 {
		t.Error("checksum verifies a corrupted message")
	}
}

// TestICMPv6Checksum_knownVector checks the sum against a value worked out by hand: a
// message of one 16-bit word 0x0001 between :: and ::, so the sum is length 2 + next header
// 58 + 1 = 61 and the checksum its complement.
func TestICMPv6Checksum_knownVector(t *testing.T) {
	var zero [16]byte
	if got, want := icmpv6Checksum(zero, zero, []byte{0x00, 0x01}), ^uint16(61); got != want {
		t.Errorf("checksum %#04x, want %#04x", got, want)
	}
	// An odd length pads with a zero byte: 0x01 counts as 0x0100.
	if got, want := icmpv6Checksum(zero, zero, []byte{0x01}), ^uint16(0x0100+1+58); got != want {
		t.Errorf("odd-length checksum %#04x, want %#04x", got, want)
	}
}

func TestFrames_rejectWrongFamilyOrMAC(t *testing.T) {
	v4, v6 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	tests := []struct {
		name string
		err  error
	}{
		{"ARP for IPv6", second(gratuitousARP(testMAC, v6))},
		{"NA for IPv4", second(unsolicitedNA(testMAC, v4))},
		{"NA for IPv4-mapped", second(unsolicitedNA(testMAC, netip.AddrFrom16(v4.As16())))},
		{"ARP with 8-byte MAC", second(gratuitousARP(append(testMAC, 0, 0), v4))},
		{"NA without MAC", second(unsolicitedNA(nil, v6))},
	}
	for _, tt := range tests {
		if tt.err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func second(_ []byte, err error) error { return err }

// FuzzFrames builds announcements for arbitrary addresses and MACs: the builders must never
// panic, and every frame they accept must carry the VIP and a valid checksum.
func FuzzFrames(f *testing.F) {
	f.Add([]byte{10, 0, 0, 1}, []byte(testMAC))
	f.Add(make([]byte, 16), []byte(testMAC))
	f.Add([]byte{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, ip, mac []byte) {
		addr, ok := netip.AddrFromSlice(ip)
		if !ok {
			return
		}
		if fr, err := gratuitousARP(mac, addr); err == nil {
			a4 := addr.As4()
			if !bytes.Equal(fr[28:32], a4[:]) || !bytes.Equal(fr[38:42], a4[:]) {
				t.Fatalf("ARP frame does not carry %s", addr)
			}
		}
		if fr, err := unsolicitedNA(mac, addr); err == nil {
			a16 := addr.As16()
			if !bytes.Equal(fr[62:78], a16[:]) {
				t.Fatalf("NA frame does not target %s", addr)
			}
			if icmpv6Checksum(a16, allNodesAddr.As16(), fr[54:]) != 0 {
				t.Fatal("checksum does not verify")
			}
		}
	})
}
