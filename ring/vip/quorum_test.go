package vip

import "testing"

func TestQuorum_majorityOfLargestView(t *testing.T) {
	tests := []struct {
		name     string
		expected int
		observe  []int
		want     []bool
	}{
		{"single node", 0, []int{1, 1}, []bool{true, true}},
		{"three nodes split 2/1", 0, []int{3, 2, 1, 3}, []bool{true, true, false, true}},
		{"four nodes split 2/2: neither side", 0, []int{4, 2}, []bool{true, false}},
		{"expected floor: a node starting cut off", 3, []int{1, 2, 3}, []bool{false, true, true}},
		{"growth raises the bar", 2, []int{2, 5, 2, 3}, []bool{true, true, false, true}},
		{"nothing in view", 0, []int{0}, []bool{false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := NewQuorum(tt.expected)
			for i, n := range tt.observe {
				if got := q.Observe(n); got != tt.want[i] {
					t.Errorf("observation %d (%d reachable, size %d): quorum %v, want %v", i, n, q.Size(), got, tt.want[i])
				}
			}
		})
	}
}
