package testenv

import (
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// OnEachFileSystem runs f in two subtests, each with an empty directory of its own: "tmpdir"
// (t.TempDir, usually a file system with a device; tmpfs false) and "tmpfs" (under /dev/shm;
// tmpfs true), for code
// whose behaviour depends on where its files live (the page cache, hole punching). A
// machine without /dev/shm fails the tmpfs subtest.
func OnEachFileSystem(t *testing.T, f func(t *testing.T, dir string, tmpfs bool)) {
	t.Run("tmpdir", func(t *testing.T) { f(t, t.TempDir(), false) })
	t.Run("tmpfs", func(t *testing.T) {
		dir, err := os.MkdirTemp("/dev/shm", "shoal-test-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		f(t, dir, true)
	})
}

// DropPageCache writes f back and asks the kernel to drop its pages from the page cache, as
// memory pressure would (tmpfs keeps them: its pages are the file). Pages still in another
// CPU's LRU batch are not dropped at the first asking, so while gone (nil: asked once)
// reports false it asks again, for up to a second; the caller checks gone itself after.
func DropPageCache(t testing.TB, f *os.File, gone func() bool) {
	t.Helper()
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
			t.Fatal(err)
		}
		if gone == nil || gone() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
