//go:build !linux

package testenv

import (
	"os"
	"testing"
)

// DropPageCache skips the test: dropping a file's pages is asked of Linux (posix_fadvise).
func DropPageCache(t testing.TB, _ *os.File, _ func() bool) {
	t.Helper()
	t.Skip("dropping the page cache needs Linux")
}
