package main

import (
	"os"
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
		got := memoryPolicyFor(conf.Cache{Memory: tc.memory}, 0)
		if got.limit != tc.limit || got.store != tc.store {
			t.Errorf("cache.memory %s: limit %d MiB, store %d MiB; want %d, %d", tc.memory,
				got.limit/mib, got.store/mib, tc.limit/mib, tc.store/mib)
		}
		if got.store > int64(tc.memory) || got.limit-got.store < storeReserve {
			t.Errorf("cache.memory %s: store %d, limit %d break the policy", tc.memory, got.store, got.limit)
		}
	}
}

// The limit leaves the executable's resident pages room below issue 15's ceiling (RSS at most
// 1.15x cache.memory with a full cache): the Go runtime's memory limit does not count them, and
// at 1.125x a full 192 MiB cache had RSS 1.153x. Where the ceiling cannot be kept (a store of
// half of cache.memory needs its reserve) the store keeps half as before, and from about
// 900 MiB 1.125x is the lower limit.
func TestMemoryPolicyFor_rssStaysBelowTheCeilingWithTheExecutable(t *testing.T) {
	const mib = 1 << 20
	const outside = 23 * 1000 * 1000 // shoal's loadable segments, executableBytes
	for _, memory := range []conf.Size{140 * mib, 192 * mib, 256 * mib, 512 * mib, 1024 * mib, 4096 * mib} {
		p := memoryPolicyFor(conf.Cache{Memory: memory}, outside)
		if ceiling := int64(memory) * rssCeiling / 100; p.limit+outside > ceiling {
			t.Errorf("cache.memory %s: limit %d B and %d B of executable pass the ceiling %d B", memory, p.limit, int64(outside), ceiling)
		}
		if p.limit > int64(memory)+int64(memory)/8 || p.limit-p.store < storeReserve || p.store < int64(memory)/2 {
			t.Errorf("cache.memory %s: limit %d, store %d break the policy", memory, p.limit, p.store)
		}
	}
	// 1 GiB: 1.125x is below the ceiling less the executable, and nothing changes.
	if p, q := memoryPolicyFor(conf.Cache{Memory: 1024 * mib}, outside), memoryPolicyFor(conf.Cache{Memory: 1024 * mib}, 0); p != q {
		t.Errorf("cache.memory 1GiB: %+v with the executable, %+v without", p, q)
	}
}

// executableBytes reads this test binary's loadable segments: more than nothing, no more than
// the file.
func TestExecutableBytes(t *testing.T) {
	path, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := executableBytes(); n <= 0 || n > fi.Size() {
		t.Fatalf("executableBytes() = %d for a file of %d B", n, fi.Size())
	}
}
