package edge

import "testing"

// TestNew_storeBytes gives the store Options.StoreBytes when set (cmd/shoal's memory
// policy), and cache.memory otherwise.
func TestNew_storeBytes(t *testing.T) {
	for _, tc := range []struct {
		opt, want int64
	}{{0, 64 << 20}, {40 << 20, 40 << 20}} {
		n := startNode(t, oneRoute(true, "http://127.0.0.1:9"), Options{StoreBytes: tc.opt})
		if got := n.Store().MaxBytes(); got != tc.want {
			t.Errorf("StoreBytes %d: store budget %d, want %d", tc.opt, got, tc.want)
		}
	}
}
