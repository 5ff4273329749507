package vip

import (
	"slices"
	"testing"
	"time"
)

// TestManager_takeoverInNamespaces kills the holder (cuts its cable) and checks that the
// next holder adds the address and announces it: the client's neighbour table switches to
// the new MAC and the client's polls reach the new holder. It logs how long the client was
// without service and how many polls failed; failure detection is simulated as instant,
// so add memberlist's detection time (1-2 s on a LAN) for a real failure.
func TestManager_takeoverInNamespaces(t *testing.T) {
	tests := []struct {
		name string
		vip  string
	}{
		{"IPv4 gratuitous ARP", "10.250.0.100/24"},
		{"IPv6 neighbour advertisement", "fd00:250::100/64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLab(t, 3, tt.vip)
			l.view(l.nodes)
			old := l.holder(l.nodes)
			results := l.startClient()
			l.waitFor(results, time.Time{}, old.name)
			if got := l.clientMAC(); got != old.mac.String() {
				t.Fatalf("client has %q for the VIP, want the holder's %s", got, old.mac)
			}

			survivors := slices.DeleteFunc(slices.Clone(l.nodes), func(n *labNode) bool { return n == old })
			next := l.holder(survivors)
			dead := time.Now()
			l.cut(old)
			l.view(survivors)
			at, failed := l.waitFor(results, dead, next.name)
			t.Logf("%s: %s -> %s, first good response %v after the holder died, %d failed polls (every %v)",
				tt.vip, old.name, next.name, at.Sub(dead).Round(time.Millisecond), failed, labPoll)

			l.settle()
			if got := l.clientMAC(); got != next.mac.String() {
				t.Errorf("client neighbour entry %q, want the new holder's %s", got, next.mac)
			}
			if got := l.holders(); !slices.Contains(got, next.name) {
				t.Errorf("VIP on %v, want it on %s", got, next.name)
			}
			if d := at.Sub(dead); d > 10*time.Second {
				t.Errorf("takeover took %v", d)
			}
		})
	}
}

// TestManager_partitionInNamespaces cuts the holder off: the isolated node loses quorum and
// releases, the majority elects one holder and the client follows it. On heal there is
// again exactly one holder, it announces, and the client reaches it without waiting for an
// ARP entry to expire.
func TestManager_partitionInNamespaces(t *testing.T) {
	l := newLab(t, 3, "10.250.0.100/24")
	l.view(l.nodes)
	isolated := l.holder(l.nodes)
	results := l.startClient()
	l.waitFor(results, time.Time{}, isolated.name)

	majority := slices.DeleteFunc(slices.Clone(l.nodes), func(n *labNode) bool { return n == isolated })
	next := l.holder(majority)
	split := time.Now()
	l.cut(isolated)
	l.view(majority, []*labNode{isolated})
	l.settle()
	if got := l.holders(); !slices.Equal(got, []string{next.name}) {
		t.Fatalf("during the partition the VIP is on %v, want only %s (the isolated %s has no quorum)", got, next.name, isolated.name)
	}
	at, failed := l.waitFor(results, split, next.name)
	t.Logf("partition: %s isolated, %s holds; first good response %v after the split, %d failed polls",
		isolated.name, next.name, at.Sub(split).Round(time.Millisecond), failed)

	healed := time.Now()
	l.cable(isolated)
	l.view(l.nodes)
	l.settle()
	want := l.holder(l.nodes)
	if got := l.holders(); !slices.Equal(got, []string{want.name}) {
		t.Fatalf("after heal the VIP is on %v, want only %s", got, want.name)
	}
	at, failed = l.waitFor(results, healed, want.name)
	t.Logf("heal: %s holds; first good response %v after the heal, %d failed polls",
		want.name, at.Sub(healed).Round(time.Millisecond), failed)
	if got := l.clientMAC(); got != want.mac.String() {
		t.Errorf("client neighbour entry %q after heal, want %s", got, want.mac)
	}
}
