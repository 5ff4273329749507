package vip

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
)

// sameMessage compares messages field by field (claims are a slice: nil and empty are the
// same list).
func sameMessage(a, b message) bool {
	return a.kind == b.kind && a.verdict == b.verdict && a.id == b.id && a.from == b.from && a.target == b.target &&
		a.hasClaims == b.hasClaims && a.more == b.more && slices.Equal(a.claims, b.claims) && a.seq == b.seq
}

func addrs(t testing.TB, ss ...string) []netip.Addr {
	t.Helper()
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

func TestMessage_roundTrips(t *testing.T) {
	tests := []message{
		{kind: kindPing, from: "edge-1"},
		{kind: kindPong, from: "edge-2"},
		{kind: kindProbe, id: 1 << 40, from: "edge-3", target: "edge-1"},
		{kind: kindVerdict, id: 7, from: "edge-3", target: "edge-1", verdict: verdictAlive},
		{kind: kindVerdict, id: 9, from: "edge-3", target: "edge-1", verdict: verdictRefused},
		{kind: kindVerdict, id: 8, from: "e", target: "edge-1"},
		{kind: kindPing, id: 12, from: "edge-1", hasClaims: true},
		{kind: kindPong, id: 12, from: "edge-2", hasClaims: true, claims: addrs(t, "192.0.2.100")},
		{kind: kindPong, id: 1 << 63, from: "edge-2", hasClaims: true, claims: addrs(t, "192.0.2.100", "2001:db8::100", "::ffff:192.0.2.1")},
		{kind: kindPing, from: "edge-3", hasClaims: true, more: true, claims: addrs(t, "192.0.2.1")},
		{kind: kindPing, id: 1 << 60, from: "edge-1", hasClaims: true, seq: 1 << 60},
		{kind: kindPong, id: 3, from: "edge-2", hasClaims: true, more: true, seq: 1<<64 - 1, claims: addrs(t, "2001:db8::1")},
	}
	for _, want := range tests {
		got, err := decodeMessage(want.append(nil))
		if err != nil || !sameMessage(got, want) {
			t.Errorf("%+v decoded as %+v, %v", want, got, err)
		}
	}
}

func TestDecodeMessage_refusesWhatIsNotAWholeMessage(t *testing.T) {
	good := message{kind: kindProbe, id: 3, from: "edge-1", target: "edge-2"}.append(nil)
	ping := message{kind: kindPing, id: 3, from: "edge-1"}.append(nil)
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"wrong magic", append([]byte{0}, good[1:]...)},
		{"unknown kind", append([]byte{wireMagic, 9}, good[2:]...)},
		{"kind zero", append([]byte{wireMagic, 0}, good[2:]...)},
		{"verdict 3", append([]byte{wireMagic, kindVerdict, 3}, good[3:]...)},
		{"truncated", good[:len(good)-1]},
		{"trailing byte", append(append([]byte(nil), good...), 0)},
		{"no sender", message{kind: kindPing}.append(nil)},
		{"name length past the end", []byte{wireMagic, kindPing, 0, 0, 200, 'a'}},
		{"name too long", message{kind: kindPing, from: string(make([]byte, 256))}.append(nil)},
		{"id overflow", []byte{wireMagic, kindPing, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{"claims: unknown flag", append(slices.Clone(ping), 4, 0)},
		{"claims: sequence number 0", append(slices.Clone(ping), claimsSeq, 0, 0)},
		{"claims: no sequence number", append(slices.Clone(ping), claimsSeq)},
		{"claims: sequence number past the end", append(slices.Clone(ping), claimsSeq, 0x80)},
		{"claims: no count", append(slices.Clone(ping), 0)},
		{"claims: count over the bound", append(slices.Clone(ping), 0, maxClaims+1)},
		{"claims: count past the end", append(slices.Clone(ping), 0, 2, 4, 192, 0, 2, 1)},
		{"claims: unknown family", append(slices.Clone(ping), 0, 1, 5, 192, 0, 2, 1)},
		{"claims: short IPv4", append(slices.Clone(ping), 0, 1, 4, 192, 0, 2)},
		{"claims: short IPv6", append(slices.Clone(ping), 0, 1, 6, 0x20, 0x01)},
		{"claims: trailing byte", append(slices.Clone(ping), 0, 1, 4, 192, 0, 2, 1, 0)},
	}
	for _, tt := range tests {
		if m, err := decodeMessage(tt.b); err == nil {
			t.Errorf("%s: decoded as %+v", tt.name, m)
		}
	}
}

// FuzzDecodeMessage feeds arbitrary datagrams: decoding must never panic, and whatever it
// accepts must survive encoding and decoding again unchanged (the bytes may differ: a
// uvarint has more than one spelling).
func FuzzDecodeMessage(f *testing.F) {
	f.Add(message{kind: kindPing, from: "edge-1"}.append(nil))
	f.Add(message{kind: kindVerdict, id: 99, from: "a", target: "b", verdict: verdictAlive}.append(nil))
	f.Add([]byte{wireMagic, kindProbe, 0, 0x80})
	f.Add(message{kind: kindPong, id: 5, from: "edge-2", hasClaims: true, claims: []netip.Addr{
		netip.MustParseAddr("192.0.2.100"), netip.MustParseAddr("2001:db8::100")}}.append(nil))
	f.Add(message{kind: kindPing, from: "edge-2", hasClaims: true, more: true}.append(nil))
	f.Add(message{kind: kindPing, id: 7, from: "edge-2", hasClaims: true, seq: 1 << 62}.append(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMessage(b)
		if err != nil {
			return
		}
		again, err := decodeMessage(m.append(nil))
		if err != nil || !sameMessage(again, m) {
			t.Fatalf("%q decoded as %+v, which round-trips as %+v, %v", b, m, again, err)
		}
	})
}

// TestMessage_claimsOverTheBoundSayMore: a holder of more VIPs than a message lists must not
// look as if it held only those: the flag makes the receiver read it as holding every VIP.
func TestMessage_claimsOverTheBoundSayMore(t *testing.T) {
	var many []netip.Addr
	for i := range maxClaims + 5 {
		many = append(many, netip.MustParseAddr(fmt.Sprintf("2001:db8::%x", i+1)))
	}
	b := message{kind: kindPong, id: 1, from: "edge-1", hasClaims: true, claims: many}.append(nil)
	m, err := decodeMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.claims) != maxClaims || !m.more {
		t.Errorf("decoded %d claims, more=%v; want %d and more", len(m.claims), m.more, maxClaims)
	}
	if !m.holds(many[len(many)-1]) || !m.holds(netip.MustParseAddr("192.0.2.7")) {
		t.Error("a truncated claim list does not count as holding everything")
	}
	// Claims ride pings and pongs, which have no target: with the longest name and the
	// most IPv6 claims the datagram (plus the ring's kind byte) fits a 1 KiB direct message.
	longest := message{kind: kindPong, id: 1 << 63, from: string(make([]byte, maxNameLen)), hasClaims: true, claims: many, seq: 1<<64 - 1}.append(nil)
	t.Logf("longest ping or pong: %d bytes", len(longest))
	if len(longest)+1 > 1024 {
		t.Errorf("%d bytes: too long for a direct message", len(longest))
	}
	old := message{kind: kindPong, id: 1, from: "edge-1"} // a node that predates claims
	if old.holds(many[0]) {
		t.Error("a message without claims says its sender holds a VIP")
	}
}

// TestMessage_leavingMark: a leaving node names itself as the target of its pings and pongs
// (Manager.Leave); the mark survives the wire, and a ping or pong without it (an older
// sender's) is not leaving, nor is a probe about its own sender.
func TestMessage_leavingMark(t *testing.T) {
	for _, tc := range []struct {
		m    message
		want bool
	}{
		{message{kind: kindPing, id: 1, from: "edge-1", target: "edge-1", hasClaims: true, seq: 1}, true},
		{message{kind: kindPong, id: 1, from: "edge-1", target: "edge-1", hasClaims: true, seq: 2}, true},
		{message{kind: kindPong, id: 1, from: "edge-1", hasClaims: true, seq: 2}, false},
		{message{kind: kindPong, id: 1, from: "edge-1", target: "edge-2", hasClaims: true, seq: 2}, false},
		{message{kind: kindProbe, id: 1, from: "edge-1", target: "edge-1"}, false},
	} {
		got, err := decodeMessage(tc.m.append(nil))
		if err != nil {
			t.Fatalf("%+v: %v", tc.m, err)
		}
		if got.leaving() != tc.want {
			t.Errorf("%+v: leaving %v, want %v", tc.m, got.leaving(), tc.want)
		}
	}
}
