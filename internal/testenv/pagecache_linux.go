package testenv

import (
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// DropPageCache writes f back and asks the kernel to drop its pages from the page cache, as
// memory pressure would (tmpfs keeps them: its pages are the file). Pages still in another
// CPU's LRU batch are not dropped at the first asking, so while gone (nil: asked once)
// reports false it asks again (writing back again first: under load another test's writes
// can hold the device), for up to five seconds; the caller checks gone itself after.
func DropPageCache(t testing.TB, f *os.File, gone func() bool) {
	t.Helper()
	for range 500 {
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
			t.Fatal(err)
		}
		if gone == nil || gone() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
