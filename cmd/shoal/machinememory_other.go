//go:build !linux

package main

// machineMemory is 0 (unknown) off Linux: the cache.memory check against the machine's
// memory is skipped.
func machineMemory() int64 { return 0 }
