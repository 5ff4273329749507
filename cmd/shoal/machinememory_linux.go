package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// machineMemory is the memory this process may have: the machine's RAM, or the cgroup's
// memory.max when that is lower (a systemd MemoryMax=, a container limit); 0 when unknown.
func machineMemory() int64 {
	var si syscall.Sysinfo_t
	if err := syscall.Sysinfo(&si); err != nil {
		return 0
	}
	total := int64(si.Totalram) * int64(si.Unit)
	if data, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if limit, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64); err == nil && limit > 0 && limit < total {
			total = limit
		}
	}
	return total
}
