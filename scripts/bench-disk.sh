#!/usr/bin/env bash
# The disk tier's Go benchmarks (cachestore/disk): Get of 256 KiB and 1 MiB objects through
# ReadAt and through sendfile(2), and Put throughput, once on tmpfs (/dev/shm) and once on
# the real disk (the test's temporary directory); then the index load (BenchmarkDisk_LoadMany,
# 10 loads each, page cache warm). Usage: scripts/bench-disk.sh [benchtime]
set -euo pipefail
cd "$(dirname "$0")/.."
benchtime="${1:-2000x}"
mkdir -p bench-results
out="bench-results/disk-$(date -u +%Y%m%dT%H%M%SZ).txt"
{
	echo "## tmpfs (/dev/shm)"
	SHOAL_DISK_BENCH_DIR=/dev/shm go test -run '^$' -bench . -skip LoadMany -benchmem -benchtime "$benchtime" -count 3 ./cachestore/disk
	echo "## real disk ($(df --output=source "${TMPDIR:-/tmp}" | tail -1))"
	go test -run '^$' -bench . -skip LoadMany -benchmem -benchtime "$benchtime" -count 3 ./cachestore/disk
	echo "## index load, real disk"
	go test -run '^$' -bench LoadMany -benchmem -benchtime 10x -count 3 ./cachestore/disk
} | tee "$out"
