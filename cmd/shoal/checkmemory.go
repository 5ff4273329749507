package main

import (
	"fmt"

	"github.com/shoal-cdn/shoal/conf"
)

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
	data, _ := conf.ReadFile(path, conf.MaxConfigBytes, "a configuration file")
	return &conf.Error{File: path, Line: conf.KeyLine(data, "cache.memory"), Key: "cache.memory", Msg: msg}
}
