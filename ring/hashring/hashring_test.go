package hashring

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

const testKeys = 100_000

func key(i int) string { return fmt.Sprintf("http://www.example.com/assets/%d.jpg", i) }

func nodes(names ...string) []Node {
	out := make([]Node, len(names))
	for i, n := range names {
		out[i] = Node{Name: n}
	}
	return out
}

func edges(n int) []Node {
	out := make([]Node, n)
	for i := range out {
		out[i] = Node{Name: fmt.Sprintf("edge-%d", i+1)}
	}
	return out
}

// owners maps every test key to its owner.
func owners(r *Ring) []string {
	out := make([]string, testKeys)
	for i := range out {
		out[i] = r.Owner(key(i))
	}
	return out
}

func counts(owned []string) map[string]int {
	c := map[string]int{}
	for _, o := range owned {
		c[o]++
	}
	return c
}

func TestRing_emptyRingHasNoOwner(t *testing.T) {
	for _, r := range []*Ring{nil, New(0, nil), New(0, nodes(""))} {
		if got := r.Owner("k"); got != "" {
			t.Errorf("Owner = %q, want empty", got)
		}
		if got := r.Owners("k", 3); got != nil {
			t.Errorf("Owners = %v, want nil", got)
		}
		if r.Len() != 0 {
			t.Errorf("Len = %d, want 0", r.Len())
		}
	}
}

func TestRing_loadWithinTenPercentOfIdeal(t *testing.T) {
	tests := []struct {
		name  string
		nodes []Node
	}{
		{"edge-N", edges(5)},
		{"host names", nodes("fra1.cdn.example.net", "fra2.cdn.example.net", "ams1.cdn.example.net", "lon1.cdn.example.net", "par1.cdn.example.net")},
		{"addresses", nodes("10.0.0.1:8081", "10.0.0.2:8081", "10.0.0.3:8081", "10.0.0.4:8081", "10.0.0.5:8081")},
		{"short", nodes("a", "b", "c", "d", "e")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := counts(owners(New(0, tt.nodes)))
			ideal := float64(testKeys) / float64(len(tt.nodes))
			for _, n := range tt.nodes {
				dev := float64(c[n.Name])/ideal - 1
				t.Logf("%s: %d keys (%+.1f%%)", n.Name, c[n.Name], dev*100)
				if math.Abs(dev) > 0.10 {
					t.Errorf("%s owns %d keys, more than 10%% from the ideal %.0f", n.Name, c[n.Name], ideal)
				}
			}
		})
	}
}

func TestRing_inputOrderDoesNotMatter(t *testing.T) {
	a := New(0, nodes("a", "b", "c", "d"))
	b := New(0, nodes("d", "b", "a", "c", "b"))
	for i := range 2000 {
		if a.Owner(key(i)) != b.Owner(key(i)) || !slices.Equal(a.Owners(key(i), 4), b.Owners(key(i), 4)) {
			t.Fatalf("key %d: owners differ with input order", i)
		}
	}
}

func TestRing_membershipChangeMovesAboutOneNth(t *testing.T) {
	five := edges(5)
	six := edges(6)
	tests := []struct {
		name          string
		before, after []Node
		changed       string // the node that joined or left
		joined        bool
	}{
		{"join", five, six, "edge-6", true},
		{"leave", six, five, "edge-6", false},
		{"leave middle", five, append(slices.Clone(five[:2]), five[3:]...), "edge-3", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, after := owners(New(0, tt.before)), owners(New(0, tt.after))
			moved := 0
			for i := range before {
				if before[i] == after[i] {
					continue
				}
				moved++
				if tt.joined && after[i] != tt.changed {
					t.Fatalf("key %d moved %s -> %s, not to the joining %s", i, before[i], after[i], tt.changed)
				}
				if !tt.joined && before[i] != tt.changed {
					t.Fatalf("key %d moved %s -> %s though only %s left", i, before[i], after[i], tt.changed)
				}
			}
			n := float64(max(len(tt.before), len(tt.after)))
			frac := float64(moved) / testKeys
			t.Logf("%.2f%% of keys moved (1/N = %.2f%%)", frac*100, 100/n)
			if frac < 0.5/n || frac > 1.5/n {
				t.Errorf("moved fraction %.3f outside [%.3f, %.3f]", frac, 0.5/n, 1.5/n)
			}
		})
	}
}

func TestRing_weightsAreRespected(t *testing.T) {
	tests := []struct {
		name  string
		nodes []Node
	}{
		{"one double", []Node{{Name: "a", Weight: 2}, {Name: "b"}, {Name: "c"}, {Name: "d"}}},
		{"zero means one", []Node{{Name: "a", Weight: 3}, {Name: "b", Weight: 0}, {Name: "c", Weight: 1}}},
		{"mixed", []Node{{Name: "a", Weight: 1}, {Name: "b", Weight: 2}, {Name: "c", Weight: 4}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := counts(owners(New(0, tt.nodes)))
			total := 0
			for _, n := range tt.nodes {
				total += effectiveWeight(n.Weight)
			}
			for _, n := range tt.nodes {
				ideal := float64(testKeys) * float64(effectiveWeight(n.Weight)) / float64(total)
				dev := float64(c[n.Name])/ideal - 1
				t.Logf("%s weight %d: %d keys (%+.1f%%)", n.Name, n.Weight, c[n.Name], dev*100)
				if math.Abs(dev) > 0.10 {
					t.Errorf("%s owns %d keys, want %.0f +-10%%", n.Name, c[n.Name], ideal)
				}
			}
		})
	}
}

func TestRing_ownersAreDistinctAndFailOverInOrder(t *testing.T) {
	all := edges(5)
	r := New(0, all)
	for i := range 500 {
		k := key(i)
		got := r.Owners(k, 10)
		if len(got) != 5 {
			t.Fatalf("Owners(%q, 10) has %d nodes, want all 5", k, len(got))
		}
		if got[0] != r.Owner(k) {
			t.Fatalf("Owners[0] = %s, Owner = %s", got[0], r.Owner(k))
		}
		seen := map[string]bool{}
		for _, o := range got {
			if seen[o] {
				t.Fatalf("Owners(%q) repeats %s: %v", k, o, got)
			}
			seen[o] = true
		}
		// The second owner is who owns the key once the first is gone.
		var rest []Node
		for _, n := range all {
			if n.Name != got[0] {
				rest = append(rest, n)
			}
		}
		if want := New(0, rest).Owner(k); got[1] != want {
			t.Fatalf("Owners[1] = %s, but without %s the owner is %s", got[1], got[0], want)
		}
		if short := r.Owners(k, 2); !slices.Equal(short, got[:2]) {
			t.Fatalf("Owners(k, 2) = %v is not a prefix of %v", short, got)
		}
	}
}

func TestRing_ownerBoundedSpillsToNextOwner(t *testing.T) {
	r := New(0, edges(5))
	k := key(42)
	order := r.Owners(k, 5)
	tests := []struct {
		name string
		load map[string]float64
		c    float64
		want string
	}{
		{"owner under bound", map[string]float64{order[0]: 10}, 1.25, order[0]},
		{"owner over bound spills", map[string]float64{order[0]: 13}, 1.25, order[1]},
		{"owner at bound spills", map[string]float64{order[0]: 12.5}, 1.25, order[1]},
		{"two hot spill twice", map[string]float64{order[0]: 20, order[1]: 20}, 1.25, order[2]},
		{"all hot keeps owner", map[string]float64{order[0]: 20, order[1]: 20, order[2]: 20, order[3]: 20, order[4]: 20}, 1.25, order[0]},
		{"bound off", map[string]float64{order[0]: 1000}, 1, order[0]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			load := func(n string) float64 { return tt.load[n] }
			if got := r.OwnerBounded(k, load, 10, tt.c); got != tt.want {
				t.Errorf("OwnerBounded = %s, want %s (order %v)", got, tt.want, order)
			}
		})
	}
}

func TestRendezvous_spreadsAndMovesOnlyDeadNodesKeys(t *testing.T) {
	all := edges(5)
	const vips = 5000
	before := make([]string, vips)
	for i := range before {
		before[i] = Rendezvous(fmt.Sprintf("192.0.2.%d/24", i), all)
	}
	c := counts(before)
	for _, n := range all {
		if share := float64(c[n.Name]) / vips; share < 0.15 || share > 0.25 {
			t.Errorf("%s holds %.1f%% of keys, want about 20%%", n.Name, share*100)
		}
	}
	dead := "edge-3"
	var alive []Node
	for _, n := range all {
		if n.Name != dead {
			alive = append(alive, n)
		}
	}
	for i, was := range before {
		now := Rendezvous(fmt.Sprintf("192.0.2.%d/24", i), alive)
		if was != dead && now != was {
			t.Fatalf("key %d moved %s -> %s though only %s died", i, was, now, dead)
		}
		if now == dead {
			t.Fatalf("key %d still on dead %s", i, dead)
		}
	}
}

func TestRendezvous_weightsAndEdgeCases(t *testing.T) {
	if got := Rendezvous("k", nil); got != "" {
		t.Errorf("no nodes: %q", got)
	}
	if got := Rendezvous("k", nodes("", "only")); got != "only" {
		t.Errorf("single node: %q", got)
	}
	weighted := []Node{{Name: "big", Weight: 3}, {Name: "small", Weight: 1}}
	c := map[string]int{}
	for i := range 20000 {
		c[Rendezvous(key(i), weighted)]++
	}
	if share := float64(c["big"]) / 20000; share < 0.70 || share > 0.80 {
		t.Errorf("weight 3 of 4 won %.1f%%, want about 75%%", share*100)
	}
	if Rendezvous("k", nodes("a", "b", "c")) != Rendezvous("k", nodes("c", "a", "b")) {
		t.Error("choice depends on input order")
	}
}

func BenchmarkRing_Owner(b *testing.B) {
	for _, n := range []int{5, 50} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			r := New(0, edges(n))
			keys := make([]string, 1024)
			for i := range keys {
				keys[i] = key(i)
			}
			for i := 0; b.Loop(); i++ {
				_ = r.Owner(keys[i%len(keys)])
			}
		})
	}
}

func BenchmarkRing_Owners(b *testing.B) {
	r := New(0, edges(5))
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = key(i)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = r.Owners(keys[i%len(keys)], 2)
	}
}

func BenchmarkRendezvous(b *testing.B) {
	ns := edges(5)
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = key(i)
	}
	for i := 0; b.Loop(); i++ {
		_ = Rendezvous(keys[i%len(keys)], ns)
	}
}
