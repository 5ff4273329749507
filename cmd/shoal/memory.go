package main

import (
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/shoal-cdn/shoal/conf"
)

// memoryLimit derives Go's soft memory limit from cache.memory. The store charges its budget
// in bytes of objects; with the collector's default headroom (GOGC=100) the heap may grow to
// about twice the live data, so without a limit the process uses far more than cache.memory.
// The limit makes the collector work harder as the heap nears budget plus headroom for the
// rest of the process. GOMEMLIMIT in the environment wins.
func memoryLimit(c conf.Cache) int64 {
	const processHeadroom = 96 << 20 // listeners, pools, buffers, in-flight bodies
	return int64(c.Memory) + int64(c.Memory)/4 + processHeadroom
}

func applyMemoryLimit(cfg *conf.Config, log *slog.Logger) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	limit := memoryLimit(cfg.Cache)
	debug.SetMemoryLimit(limit)
	log.Info("memory limit set from cache.memory", "cache_memory", cfg.Cache.Memory.String(), "limit_bytes", limit)
}
