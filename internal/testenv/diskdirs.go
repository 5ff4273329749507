package testenv

import (
	"os"
	"testing"
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
