//go:build linux

package disk

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// mountTmpfs mounts a tmpfs with opts on a fresh directory; it needs root, and without root
// it skips unless CI=true, where a missing capability must fail.
func mountTmpfs(t *testing.T, opts string, flags uintptr) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("mounting a tmpfs needs root, and CI=true")
		}
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", flags, opts); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	return dir
}

func TestDisk_unusableDirectoryDisables(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notDir, nil, 0o644)
	for _, tc := range []struct {
		name string
		path func(t *testing.T) string
	}{
		{"missing directory", func(t *testing.T) string { return filepath.Join(t.TempDir(), "not-mounted") }},
		{"path under a regular file", func(t *testing.T) string { return filepath.Join(notDir, "cache") }},
		{"path is a regular file", func(t *testing.T) string { return notDir }},
		{"read-only file system", func(t *testing.T) string { return mountTmpfs(t, "size=1m", unix.MS_RDONLY) }},
		{"directory without write permission", func(t *testing.T) string {
			if os.Geteuid() == 0 {
				t.Skip("root writes through permissions; the read-only mount covers root")
			}
			dir := t.TempDir()
			os.Chmod(dir, 0o500)
			t.Cleanup(func() { os.Chmod(dir, 0o700) })
			return dir
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, reg := open(t, Config{Path: tc.path(t), Size: 16 << 20})
			checkDisabled(t, d, gauge(t, reg, "shoal_cachestore_disk_disabled"))
		})
	}
}

func TestDisk_directoryRemovedWhileRunning(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	os.Mkdir(dir, 0o755)
	d, reg := open(t, Config{Path: dir, Size: 16 << 20, SegmentSize: 1 << 20})
	d.Put(rec("a", 1000))
	d.Wait()
	h, err := d.Get("a")
	if err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(dir)
	for i := range 8 { // past a segment: the next one cannot be created
		d.Put(rec(keyN(i), 300<<10))
		d.Wait()
	}
	checkHandle(t, h, "a", 1000) // a Handle taken before keeps reading its open file
	h.Close()
	checkDisabled(t, d, gauge(t, reg, "shoal_cachestore_disk_disabled"))
}

func TestDisk_fullDiskDisables(t *testing.T) {
	dir := mountTmpfs(t, "size=2m", 0)
	d, reg := open(t, Config{Path: dir, Size: 64 << 20, SegmentSize: 1 << 20})
	d.Put(rec("first", 1000))
	d.Wait()
	for i := 0; i < 40 && !d.Disabled(); i++ {
		d.Put(rec(keyN(i), 256<<10))
		d.Wait()
	}
	checkDisabled(t, d, gauge(t, reg, "shoal_cachestore_disk_disabled"))
}

func TestDisk_eioDisables(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail func(fs *faultFS)
	}{
		{"on write", func(fs *faultFS) { fs.failWrites.Store(true) }},
		{"on read", func(fs *faultFS) { fs.failReads.Store(true) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := &faultFS{}
			d, reg := open(t, Config{Path: t.TempDir(), Size: 16 << 20, fs: fs})
			d.Put(rec("a", 1000))
			d.Wait()
			tc.fail(fs)
			d.Put(rec("b", 1000))
			d.Wait()
			d.Get("a")
			checkDisabled(t, d, gauge(t, reg, "shoal_cachestore_disk_disabled"))
		})
	}
}

func TestDisk_secondOpenOfADirectoryDisables(t *testing.T) {
	dir := t.TempDir()
	d, _ := open(t, Config{Path: dir, Size: 16 << 20})
	defer d.Close()
	d2, reg := open(t, Config{Path: dir, Size: 16 << 20})
	checkDisabled(t, d2, gauge(t, reg, "shoal_cachestore_disk_disabled"))
}

func TestCheckPath(t *testing.T) {
	if err := CheckPath(t.TempDir()); err != nil {
		t.Fatalf("an empty writable directory: %v", err)
	}
	if err := CheckPath(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("a missing directory passed")
	}
	if err := CheckPath(mountTmpfs(t, "size=1m", unix.MS_RDONLY)); err == nil {
		t.Fatal("a read-only file system passed")
	}
	notDir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notDir, nil, 0o644)
	if err := CheckPath(filepath.Join(notDir, "cache")); err == nil {
		t.Fatal("a path under a regular file passed")
	}
}
