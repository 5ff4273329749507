package main

import (
	"fmt"
	"syscall"

	"github.com/shoal-cdn/shoal/conf"
)

// diskSizeProblem says why cache.disk.size cannot fit the file system holding dir, or "". A
// size above the file system's capacity was ok to check; the tier then filled the file
// system and turned itself off (ENOSPC) at the first write past it, leaving memory only.
func diskSizeProblem(dir string, size int64) string {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		return ""
	}
	return sizeAboveCapacity(dir, size, int64(fs.Blocks)*int64(fs.Bsize))
}

// sizeAboveCapacity is diskSizeProblem's message for a file system of total bytes (0: unknown).
func sizeAboveCapacity(dir string, size, total int64) string {
	if total > 0 && size > total {
		return fmt.Sprintf("%s is larger than the file system holding %s (%s)", conf.Size(size), dir, humanSize(total))
	}
	return ""
}
