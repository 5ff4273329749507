package main

import (
	"testing"

	"github.com/shoal-cdn/shoal/conf"
)

// TestMemoryPolicyFor splits cache.memory into a limit at 1.125x and a store that leaves
// storeReserve below it, never more than 15/16 of cache.memory, never less than half of it.
func TestMemoryPolicyFor(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		memory       conf.Size
		limit, store int64
	}{
		{64 * mib, 96 * mib, 32 * mib},      // small: half stored, the limit is store + reserve
		{128 * mib, 144 * mib, 80 * mib},    // 144 - 64
		{256 * mib, 288 * mib, 224 * mib},   // make bench-memory's
		{512 * mib, 576 * mib, 480 * mib},   // 15/16: the runtime's share grows with the heap
		{1024 * mib, 1152 * mib, 960 * mib}, // large: 15/16 of cache.memory stored
	}
	for _, tc := range tests {
		got := memoryPolicyFor(conf.Cache{Memory: tc.memory})
		if got.limit != tc.limit || got.store != tc.store {
			t.Errorf("cache.memory %s: limit %d MiB, store %d MiB; want %d, %d", tc.memory,
				got.limit/mib, got.store/mib, tc.limit/mib, tc.store/mib)
		}
		if got.store > int64(tc.memory) || got.limit-got.store < storeReserve {
			t.Errorf("cache.memory %s: store %d, limit %d break the policy", tc.memory, got.store, got.limit)
		}
	}
}
