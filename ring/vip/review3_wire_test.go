package vip

import (
	"fmt"
	"net/netip"
	"testing"
)

// A leaving node's pings and pongs carry its name twice (the leaving mark is the sender named
// as target), so with the longest name and the most IPv6 claims they must still fit the
// ring's 1 KiB direct message (plus its kind byte), or SendDirect refuses every ping and pong
// the node sends while it drains: its peers then hear no claim and no answer from it.
// TestMessage_claimsOverTheBoundSayMore measured the longest message without a target. A
// message that must leave claims out says more (read as holding every VIP); one with room
// lists them all.
func TestMessage_longestLeavingPingFitsADirectMessage(t *testing.T) {
	addrs := func(n int) []netip.Addr {
		var out []netip.Addr
		for i := range n {
			out = append(out, netip.MustParseAddr(fmt.Sprintf("2001:db8::%x", i+1)))
		}
		return out
	}
	long := string(make([]byte, maxNameLen))
	for _, tc := range []struct {
		name      string
		claims    []netip.Addr
		wantCount int // -1: any, with more set
	}{
		{long, addrs(maxClaims + 5), -1},
		{long, addrs(maxClaims), -1},
		{"edge-1", addrs(maxClaims), maxClaims},
		{long, addrs(2), 2},
	} {
		for _, kind := range []byte{kindPing, kindPong} {
			m := message{kind: kind, id: 1 << 63, from: tc.name, target: tc.name, hasClaims: true, claims: tc.claims, seq: 1<<64 - 1}
			b := m.append(nil)
			got, err := decodeMessage(b)
			if err != nil || !got.leaving() {
				t.Fatalf("kind %d, %d-byte name, %d claims: decoded %v; want a leaving message", kind, len(tc.name), len(tc.claims), err)
			}
			if len(b)+1 > 1024 {
				t.Errorf("kind %d, leaving, %d-byte name, %d IPv6 claims: %d bytes; too long for a 1 KiB direct message",
					kind, len(tc.name), len(tc.claims), len(b))
			}
			switch {
			case tc.wantCount < 0 && (!got.more || !got.holds(tc.claims[len(tc.claims)-1])):
				t.Errorf("kind %d, %d-byte name, %d claims: %d listed, more %v; a shortened list must say more",
					kind, len(tc.name), len(tc.claims), len(got.claims), got.more)
			case tc.wantCount >= 0 && (len(got.claims) != tc.wantCount || got.more):
				t.Errorf("kind %d, %d-byte name, %d claims: %d listed, more %v; want all %d and not more",
					kind, len(tc.name), len(tc.claims), len(got.claims), got.more, tc.wantCount)
			}
		}
	}
}
