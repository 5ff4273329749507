package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/shoal-cdn/shoal/conf"
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

// memorySizeProblem says why cache.memory cannot be had, or "". A cache.memory above the
// machine (a unit typed wrong) was ok to check, and run died at start with "fatal error:
// runtime: out of memory": the store sizes an index by its budget.
func memorySizeProblem(size conf.Size) string {
	if total := machineMemory(); total > 0 && int64(size) > total {
		return fmt.Sprintf("%s is more than this machine's memory (%s)", size, conf.Size(total/(1<<20)<<20))
	}
	return ""
}

// memoryError is memorySizeProblem as the error check and run print, with the key's line.
func memoryError(path string, cfg *conf.Config) *conf.Error {
	msg := memorySizeProblem(cfg.Cache.Memory)
	if msg == "" {
		return nil
	}
	data, _ := os.ReadFile(path)
	return &conf.Error{File: path, Line: conf.KeyLine(data, "cache.memory"), Key: "cache.memory", Msg: msg}
}
