package edge

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A node whose disk tier could not open (another process holds cache.disk.path's lock) ran
// the tier's keep-alive all the same, touching the other process's directory every 30 s.
// That directory's modification time is how the other node, restarted after a crash, tells
// since when to ask its peers for purges (lastActive): touched by a stranger, it asks too
// late and serves what was purged in between. A disabled tier never touches its directory.
func TestDiskTier_disabledTierLeavesTheDirectoryAlone(t *testing.T) {
	dir := t.TempDir()
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(dir, past, past); err != nil {
		t.Fatal(err)
	}
	yaml := strings.Replace(oneRoute(true, "http://127.0.0.1:1"), "fill_timeout: 5s}",
		fmt.Sprintf("fill_timeout: 5s, disk: {path: %q, size: 16MiB}}", dir), 1)
	n := startNode(t, yaml, Options{})
	if !n.disk.d.Disabled() {
		t.Fatal("the disk tier opened on a directory another holder has locked")
	}
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		info, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if !info.ModTime().Equal(past) {
			t.Fatalf("the locked directory's modification time moved from %s to %s", past, info.ModTime())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
