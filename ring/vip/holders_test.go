package vip

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
)

func prefixes(t testing.TB, ss ...string) []netip.Prefix {
	t.Helper()
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// candidates offers every one of vips on each named node, weight 1.
func candidates(vips []netip.Prefix, names ...string) []Candidate {
	out := make([]Candidate, len(names))
	for i, n := range names {
		out[i] = Candidate{Name: n, Offers: vips}
	}
	return out
}

func manyVIPs(t testing.TB, n int) []netip.Prefix {
	t.Helper()
	var ss []string
	for i := range n {
		ss = append(ss, fmt.Sprintf("192.0.2.%d/24", 100+i))
	}
	return prefixes(t, ss...)
}

func TestHolders_oneHolderPerVIPFromTheEligible(t *testing.T) {
	vips := manyVIPs(t, 20)
	tests := []struct {
		name  string
		nodes []string
	}{
		{"one node", []string{"a"}},
		{"three nodes", []string{"a", "b", "c"}},
		{"five nodes", []string{"e1", "e2", "e3", "e4", "e5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Holders(vips, candidates(vips, tt.nodes...), true)
			if len(got) != len(vips) {
				t.Fatalf("%d VIPs have a holder, want all %d", len(got), len(vips))
			}
			for _, v := range vips {
				if !slices.Contains(tt.nodes, got[v.Addr()]) {
					t.Errorf("%s held by %q, not an eligible node", v, got[v.Addr()])
				}
			}
		})
	}
}

func TestHolders_sameViewSameAnswerWhateverTheOrder(t *testing.T) {
	vips := manyVIPs(t, 10)
	a := Holders(vips, candidates(vips, "a", "b", "c", "d"), true)
	b := Holders(vips, candidates(vips, "d", "b", "a", "c"), true)
	for _, v := range vips {
		if a[v.Addr()] != b[v.Addr()] {
			t.Errorf("%s: %q in one order, %q in another", v, a[v.Addr()], b[v.Addr()])
		}
	}
}

func TestHolders_spreadsVIPsOverNodes(t *testing.T) {
	three := prefixes(t, "192.0.2.100/24", "192.0.2.101/24", "192.0.2.102/24")
	got := Holders(three, candidates(three, "edge-1", "edge-2", "edge-3"), true)
	distinct := map[string]bool{}
	for _, n := range got {
		distinct[n] = true
	}
	if len(distinct) < 2 {
		t.Errorf("3 VIPs over 3 nodes all went to %v", got)
	}

	many := manyVIPs(t, 60)
	counts := map[string]int{}
	for _, n := range Holders(many, candidates(many, "edge-1", "edge-2", "edge-3"), true) {
		counts[n]++
	}
	for _, n := range []string{"edge-1", "edge-2", "edge-3"} {
		if counts[n] < 10 {
			t.Errorf("%s holds %d of 60 VIPs, want about 20: %v", n, counts[n], counts)
		}
	}
}

func TestHolders_weightsShareVIPs(t *testing.T) {
	many := manyVIPs(t, 120)
	nodes := []Candidate{{Name: "big", Weight: 3, Offers: many}, {Name: "small", Weight: 1, Offers: many}}
	counts := map[string]int{}
	for _, n := range Holders(many, nodes, true) {
		counts[n]++
	}
	if counts["big"] <= 2*counts["small"] {
		t.Errorf("weight 3 vs 1 split %v, want about 90/30", counts)
	}
}

func TestHolders_onlyTheFailedNodesVIPsMove(t *testing.T) {
	vips := manyVIPs(t, 30)
	before := Holders(vips, candidates(vips, "a", "b", "c"), true)
	after := Holders(vips, candidates(vips, "a", "c"), true)
	moved := 0
	for _, v := range vips {
		was, now := before[v.Addr()], after[v.Addr()]
		if was == "b" {
			moved++
			if now == "b" || now == "" {
				t.Errorf("%s still on the failed node or unheld: %q", v, now)
			}
			continue
		}
		if was != now {
			t.Errorf("%s moved from survivor %s to %s", v, was, now)
		}
	}
	if moved == 0 {
		t.Fatal("the failed node held nothing; the test proves nothing")
	}
}

func TestHolders_noQuorumNoHolders(t *testing.T) {
	vips := manyVIPs(t, 3)
	if got := Holders(vips, candidates(vips, "a", "b"), false); len(got) != 0 {
		t.Errorf("without quorum got holders %v", got)
	}
}

func TestHolders_onlyMembersOfferingAVIPHoldIt(t *testing.T) {
	vips := manyVIPs(t, 10)
	nodes := []Candidate{{Name: "all", Offers: vips}, {Name: "first", Offers: vips[:1]}, {Name: "none"}}
	got := Holders(vips, nodes, true)
	for _, v := range vips[1:] {
		if got[v.Addr()] != "all" {
			t.Errorf("%s held by %q; only \"all\" offers it", v, got[v.Addr()])
		}
	}
	if got := Holders(vips, []Candidate{{Name: "none"}}, true); len(got) != 0 {
		t.Errorf("a member offering nothing holds %v", got)
	}
}

func BenchmarkHolders(b *testing.B) {
	vips := manyVIPs(b, 8)
	nodes := candidates(vips, "e1", "e2", "e3", "e4", "e5")
	for b.Loop() {
		Holders(vips, nodes, true)
	}
}
