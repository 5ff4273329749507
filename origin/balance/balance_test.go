package balance

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func candidates(weights ...int) []Candidate {
	cands := make([]Candidate, len(weights))
	for i, w := range weights {
		cands[i] = Candidate{Index: i, Weight: w, Hash: mix64(uint64(i) + 1)}
	}
	return cands
}

func seeded(seed uint64) func() uint64 {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return r.Uint64
}

// shares runs picks and returns how many each candidate Index received.
func shares(b Balancer, cands []Candidate, picks int, key func(i int) uint64) map[int]int {
	got := map[int]int{}
	for i := range picks {
		got[cands[b.Pick(cands, key(i))].Index]++
	}
	return got
}

func TestNew_names(t *testing.T) {
	tests := []struct {
		name    string
		wantErr string
	}{
		{"", ""}, {RoundRobin, ""}, {LeastConn, ""}, {Random2, ""}, {Source, ""}, {URI, ""}, {First, ""},
		{"static-rr", `unknown balancer "static-rr"`},
	}
	for _, tt := range tests {
		_, err := New(tt.name, 3, seeded(1))
		if tt.wantErr == "" && err != nil {
			t.Errorf("New(%q) = %v, want no error", tt.name, err)
		}
		if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("New(%q) = %v, want error containing %q", tt.name, err, tt.wantErr)
		}
		if Known(tt.name) != (tt.wantErr == "" && tt.name != "") {
			t.Errorf("Known(%q) = %v", tt.name, Known(tt.name))
		}
	}
}

func TestSmoothRoundRobin_sequence(t *testing.T) {
	tests := []struct {
		weights []int
		want    string
	}{
		{[]int{5, 1, 1}, "aabacaa" + "aabacaa"}, // nginx's documented example
		{[]int{1, 1, 1}, "abcabc"},
		{[]int{2, 1}, "abaaba"},
		{[]int{0, 1}, "abab"}, // weight below 1 counts as 1
	}
	for _, tt := range tests {
		b, _ := New(RoundRobin, len(tt.weights), nil)
		cands := candidates(tt.weights...)
		var got strings.Builder
		for range len(tt.want) {
			got.WriteByte(byte('a' + cands[b.Pick(cands, 0)].Index))
		}
		if got.String() != tt.want {
			t.Errorf("weights %v: picks %q, want %q", tt.weights, got.String(), tt.want)
		}
	}
}

func TestSmoothRoundRobin_absentServerKeepsNoShare(t *testing.T) {
	b, _ := New(RoundRobin, 3, nil)
	all := candidates(1, 1, 1)
	without := []Candidate{all[0], all[2]}
	got := shares(b, without, 100, func(int) uint64 { return 0 })
	if got[1] != 0 || got[0] != 50 || got[2] != 50 {
		t.Fatalf("with server 1 absent got %v, want 50/0/50", got)
	}
}

func TestLeastConn_picksFewestPerWeight(t *testing.T) {
	tests := []struct {
		name  string
		cands []Candidate
		want  int
	}{
		{"fewest active", []Candidate{{Index: 0, Weight: 1, Active: 3}, {Index: 1, Weight: 1, Active: 1}, {Index: 2, Weight: 1, Active: 2}}, 1},
		{"weight scales load", []Candidate{{Index: 0, Weight: 4, Active: 6}, {Index: 1, Weight: 1, Active: 2}}, 0},
		{"heavier loses when equal ratio is worse", []Candidate{{Index: 0, Weight: 2, Active: 5}, {Index: 1, Weight: 1, Active: 2}}, 1},
	}
	for _, tt := range tests {
		b, _ := New(LeastConn, len(tt.cands), nil)
		for range 5 { // the rotation must never override a strictly better candidate
			if got := b.Pick(tt.cands, 0); got != tt.want {
				t.Errorf("%s: picked %d, want %d", tt.name, got, tt.want)
			}
		}
	}
}

func TestLeastConn_tiesRotate(t *testing.T) {
	b, _ := New(LeastConn, 3, nil)
	got := shares(b, candidates(1, 1, 1), 300, func(int) uint64 { return 0 })
	for i := range 3 {
		if got[i] != 100 {
			t.Fatalf("idle equal servers got %v, want 100 each", got)
		}
	}
}

func TestRandomTwo_followsWeights(t *testing.T) {
	b, _ := New(Random2, 3, seeded(42))
	const picks = 60000
	got := shares(b, candidates(1, 2, 3), picks, func(int) uint64 { return 0 })
	for i, w := range []int{1, 2, 3} {
		want := picks * w / 6
		if diff := got[i] - want; diff > want/10 || -diff > want/10 {
			t.Errorf("server %d got %d picks, want %d ±10%%", i, got[i], want)
		}
	}
}

func TestRandomTwo_prefersLessLoaded(t *testing.T) {
	b, _ := New(Random2, 2, seeded(7))
	cands := []Candidate{{Index: 0, Weight: 1, Active: 9}, {Index: 1, Weight: 1, Active: 0}}
	// With two candidates both are always drawn, so the idle one must always win.
	got := shares(b, cands, 1000, func(int) uint64 { return 0 })
	if got[1] != 1000 {
		t.Fatalf("got %v, want every pick on the idle server", got)
	}
}

func TestRendezvous_followsWeights(t *testing.T) {
	var b Rendezvous
	const picks = 60000
	got := shares(b, candidates(1, 1, 2), picks, func(i int) uint64 { return mix64(uint64(i)) })
	for i, w := range []int{1, 1, 2} {
		want := picks * w / 4
		if diff := got[i] - want; diff > want/10 || -diff > want/10 {
			t.Errorf("server %d got %d keys, want %d ±10%%", i, got[i], want)
		}
	}
}

func TestRendezvous_onlyRemovedServersKeysMove(t *testing.T) {
	var b Rendezvous
	all := candidates(1, 1, 1, 1, 1)
	without2 := append(append([]Candidate{}, all[:2]...), all[3:]...)
	moved, held := 0, 0
	for k := range uint64(10000) {
		key := mix64(k)
		before := all[b.Pick(all, key)].Index
		after := without2[b.Pick(without2, key)].Index
		if before == 2 {
			held++
			continue
		}
		if before != after {
			moved++
		}
	}
	if moved != 0 {
		t.Fatalf("%d keys of surviving servers moved, want 0", moved)
	}
	if held < 1500 || held > 2500 {
		t.Fatalf("removed server held %d of 10000 keys, want about 2000", held)
	}
}

func TestRendezvous_sameKeySameServer(t *testing.T) {
	var b Rendezvous
	cands := candidates(1, 3, 2)
	for k := range uint64(100) {
		first := b.Pick(cands, k)
		for range 3 {
			if b.Pick(cands, k) != first {
				t.Fatalf("key %d changed server without any change of candidates", k)
			}
		}
	}
}

func TestFirstAvailable_lowestIndex(t *testing.T) {
	b, _ := New(First, 4, nil)
	cands := []Candidate{{Index: 3, Weight: 1}, {Index: 1, Weight: 5}, {Index: 2, Weight: 1}}
	if got := cands[b.Pick(cands, 0)].Index; got != 1 {
		t.Fatalf("picked server %d, want 1", got)
	}
}

func TestBalancers_emptyCandidates(t *testing.T) {
	for _, name := range []string{RoundRobin, LeastConn, Random2, Source, URI, First} {
		b, _ := New(name, 0, seeded(1))
		if got := b.Pick(nil, 1); got != -1 {
			t.Errorf("%s: Pick(nil) = %d, want -1", name, got)
		}
	}
}

func BenchmarkPick(b *testing.B) {
	cands := candidates(3, 1, 1, 2, 1, 1, 4, 1)
	for _, name := range []string{RoundRobin, LeastConn, Random2, Source, URI, First} {
		b.Run(name, func(b *testing.B) {
			bal, _ := New(name, len(cands), seeded(1))
			var key uint64
			for b.Loop() {
				key++
				bal.Pick(cands, key)
			}
		})
	}
}
