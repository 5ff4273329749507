package ring

import (
	"strconv"
	"testing"
)

// TestView_soleOwnerAnswersAsTheRing: with one member that may own keys, owner skips the
// hash and names the member the ring names, for self and for a peer whose neighbours drain;
// with two, or none, there is no sole owner and the ring (or the self fallback) answers.
func TestView_soleOwnerAnswersAsTheRing(t *testing.T) {
	a := Member{Name: "a", State: StateAlive, Weight: 1}
	b := Member{Name: "b", State: StateAlive, Weight: 1}
	bDraining := Member{Name: "b", State: StateDraining, Weight: 1}
	aStarting := Member{Name: "a", State: StateNotReady, Weight: 1}
	tests := []struct {
		name     string
		self     Member
		all      []Member
		wantSole string
	}{
		{"lone node", a, []Member{a}, "a"},
		{"peer draining", a, []Member{a, bDraining}, "a"},
		{"self starting, one peer", aStarting, []Member{aStarting, b}, "b"},
		{"two alive", a, []Member{a, b}, ""},
		{"none alive", aStarting, []Member{aStarting, bDraining}, ""},
	}
	for _, tt := range tests {
		all := map[string]Member{}
		for _, m := range tt.all {
			all[m.Name] = m
		}
		v := newView(tt.self, all, 16)
		sole := ""
		if v.sole != nil {
			sole = v.sole.Name
		}
		if sole != tt.wantSole {
			t.Errorf("%s: sole %q, want %q", tt.name, sole, tt.wantSole)
		}
		for i := range 100 {
			key := "http://h/" + strconv.Itoa(i)
			got, self := v.owner(key)
			want := v.ring.Owner(key)
			if want == "" {
				want = tt.self.Name // no member may own keys: self serves
			}
			if got.Name != want || self != (want == tt.self.Name) {
				t.Fatalf("%s: owner(%q) = %q %v, ring says %q", tt.name, key, got.Name, self, want)
			}
		}
	}
}
