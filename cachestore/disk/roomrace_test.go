package disk

import (
	"testing"
)

// A reclaim that ran out of segments while spools held the room it needed must not take the
// spools' release in between for a record that can never fit: the tier would be disabled
// for good (roomFor) although the room is now free. The window is simulated by a fits that
// fails once and releases the spools' room as it does.
func TestDisk_reclaimOutOfSegmentsAsSpoolsReleaseDoesNotDisable(t *testing.T) {
	d, _ := open(t, Config{Path: t.TempDir(), Size: 8 << 20})
	defer d.Close()
	const spools = 6 << 20
	if !d.claim(spools) {
		t.Fatal("claim of the spools' room refused on an empty tier")
	}
	const n = 4 << 20 // fits only once the spools are gone
	first := true
	fits := func() bool {
		if first {
			first = false
			ok := d.claim(n)
			d.unclaim(spools) // the spools end right after this claim was refused
			return ok
		}
		return d.claim(n)
	}
	if err := d.reclaimUntil(fits); err != nil {
		t.Fatalf("reclaimUntil = %v, want the room the spools released", err)
	}
	if got := d.reserved.Load(); got != n {
		t.Errorf("reserved = %d after the claim, want %d", got, n)
	}
	d.unclaim(n)
}
