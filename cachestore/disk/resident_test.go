package disk

import (
	"io"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// Resident follows the page cache: a record just written is resident, the same record once
// its pages are dropped is not (on a file system with a device; on tmpfs every page stays),
// a read brings it back, and a range of it counts only the pages it spans.
func TestHandle_residentFollowsThePageCache(t *testing.T) {
	testenv.OnEachFileSystem(t, func(t *testing.T, dir string, tmpfs bool) {
		memory := memoryBacked(dir)
		if tmpfs && !memory {
			t.Fatalf("%s is not tmpfs", dir)
		}
		const n = 1 << 20 // over the size a first Get reads whole to verify
		d, _ := open(t, Config{Path: dir, Size: 64 << 20, AdmitFrequency: -1})
		defer d.Close()
		d.Put(rec("a", n))
		d.Wait()
		h, err := d.Get("a")
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		if !h.Resident(0, n) {
			t.Fatal("a record just written is not resident")
		}
		var gone func() bool
		if !memory {
			gone = func() bool { return !h.Resident(0, h.BodyLength()) }
		}
		testenv.DropPageCache(t, h.File(), gone)
		if got := h.Resident(0, n); got != memory {
			t.Fatalf("after dropping its pages: resident %v, want %v (memory-backed %v)", got, memory, memory)
		}
		// Read the second half back: it is resident, the first half is not.
		if _, err := io.Copy(io.Discard, io.NewSectionReader(h, n/2, n/2)); err != nil {
			t.Fatal(err)
		}
		if !h.Resident(n/2, n/2) {
			t.Error("the half just read is not resident")
		}
		if !memory && h.Resident(0, n/2) {
			t.Error("the half not read is resident after its pages were dropped")
		}
		if !h.Resident(0, 0) {
			t.Error("an empty range is not resident")
		}
	})
}
