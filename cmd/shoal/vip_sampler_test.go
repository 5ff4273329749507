//go:build linux

package main

import (
	"reflect"
	"testing"
)

// The two-holder sampler reads the namespaces one after another. A VIP released by node-1 and
// added by node-2 between those two reads (break before make, as a move should be) showed on
// both: a partition run reported "two holders at once" for about 4 ms, the length of a sweep on
// a loaded machine, though the product releases before it adds (claims.go, the fence). Only a
// holder that still carries the VIP when read again after the sweep proves an overlap.
func TestSweepTwo_aMoveDuringTheSweepIsNotTwoHolders(t *testing.T) {
	names := []string{"node-1", "node-2", "node-3"}
	for _, tc := range []struct {
		name      string
		reads     [][]string // each read's answer, in the order the sweep asks
		wantTwo   []string
		wantMoved int
	}{
		{"moved from node-1 to node-2 mid-sweep", [][]string{{vipA}, {vipA}, nil, nil}, nil, 1},
		{"on node-1 and node-2 throughout", [][]string{{vipA}, {vipA}, nil, {vipA}}, []string{vipA + " on [node-1] and node-2"}, 0},
		{"one holder each", [][]string{{vipA}, {vipB}, nil}, nil, 0},
		{"on all three, node-1 released mid-sweep", [][]string{{vipA}, {vipA}, {vipA}, nil, {vipA}},
			[]string{vipA + " on [node-2] and node-3"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			two, moved := sweepTwo(names, func(int) []string {
				if n >= len(tc.reads) {
					t.Fatalf("read %d, the script has %d", n+1, len(tc.reads))
				}
				n++
				return tc.reads[n-1]
			})
			if !reflect.DeepEqual(two, tc.wantTwo) || moved != tc.wantMoved || n != len(tc.reads) {
				t.Errorf("two %q, moved %d after %d reads; want %q, %d after %d", two, moved, n, tc.wantTwo, tc.wantMoved, len(tc.reads))
			}
		})
	}
}
