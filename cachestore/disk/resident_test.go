package disk

import (
	"io"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// dropPages writes h's segment back and asks the kernel to drop its clean pages from the
// page cache, as memory pressure would; tmpfs keeps them (its pages are the file). Pages
// still in another CPU's LRU batch are not dropped at the first asking, so it asks again when
// retry is set (for as long as Resident says they are there: the test then fails on that).
func dropPages(t testing.TB, h *Handle, retry bool) {
	t.Helper()
	f := h.File()
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
			t.Fatal(err)
		}
		if !retry || !h.Resident(0, h.BodyLength()) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Resident follows the page cache: a record just written is resident, the same record once
// its pages are dropped is not (on a file system with a device; on tmpfs every page stays),
// a read brings it back, and a range of it counts only the pages it spans.
func TestHandle_residentFollowsThePageCache(t *testing.T) {
	for _, base := range []string{"", "/dev/shm"} {
		name := "tmpdir"
		if base != "" {
			name = "tmpfs"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if base != "" {
				var err error
				if dir, err = os.MkdirTemp(base, "shoal-resident-"); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { os.RemoveAll(dir) })
			}
			memory := memoryBacked(dir)
			if base != "" && !memory {
				t.Fatalf("%s is not tmpfs", base)
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
			dropPages(t, h, !memory)
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
}
