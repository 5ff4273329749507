//go:build !linux

package disk

import "errors"

// Without Linux's calls the tier still works: segments are never punched (a reclaimed
// segment stays pinned whole until its last handle closes), nothing is known to be resident
// (every read may wait for the device) and sealing a segment's fsync writes it all at once.

var errNoSyscall = errors.New("disk: not supported on this OS")

func punchHole(uintptr, int64, int64) error { return errNoSyscall }

func memoryBacked(string) bool { return false }

func cachedPages(uintptr, int64, int64) (int64, bool, error) { return 0, true, errNoSyscall }

func startWritebackRange(uintptr, int64, int64) {}
