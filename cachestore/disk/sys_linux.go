package disk

import "golang.org/x/sys/unix"

// The Linux system calls the tier uses for hints and accounting; sys_other.go has what other
// systems do without them. None is needed for correctness: a missing one costs memory
// accounting (punchHole), a read that may wait (cachestat) or a longer fsync (syncFileRange).

// punchHole frees the blocks of [off, off+n) in the file, keeping its size.
func punchHole(fd uintptr, off, n int64) error {
	return unix.Fallocate(int(fd), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n)
}

// memoryBacked reports whether dir is on a file system that keeps its files in memory.
func memoryBacked(dir string) bool {
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) != nil {
		return false
	}
	return st.Type == unix.TMPFS_MAGIC || st.Type == unix.RAMFS_MAGIC
}

// cachedPages asks cachestat(2) how many pages of [off, off+n) are in the page cache.
// unsupported is true when the kernel lacks it or refuses it (ENOSYS before 6.5, EPERM).
func cachedPages(fd uintptr, off, n int64) (pages int64, unsupported bool, err error) {
	var st unix.Cachestat_t
	if err := unix.Cachestat(uint(fd), &unix.CachestatRange{Off: uint64(off), Len: uint64(n)}, &st, 0); err != nil {
		return 0, err == unix.ENOSYS || err == unix.EPERM, err
	}
	return int64(st.Cache), false, nil
}

// startWritebackRange asks the kernel to start writing [off, off+n) back (a hint).
func startWritebackRange(fd uintptr, off, n int64) {
	_ = unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
