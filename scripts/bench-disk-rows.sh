#!/usr/bin/env bash
# The disk tier's rows of make bench, each next to nginx proxy_cache, with ratios:
#  1. disk hits at a working set of 4x cache.memory (256 KiB and 1 MiB objects; HTTP/1.1,
#     HTTP/2 over TLS and h2c; tmpfs and the real disk): scripts/bench-disk-peers.sh;
#  2. the Zipf hit ratio of memory plus disk against memory alone (working set 4x memory;
#     BenchmarkHitRatio_zipfMemoryAndDisk in edge, the real stores, no network);
#  3. restart to warm after SIGTERM and SIGKILL: scripts/bench-disk-warm.sh.
# ROUNDS (default 3 for 1, WARM_ROUNDS 2 for 3) and REQUESTS (default 3000 per run) keep it to
# two to four minutes on 2 cores. Prints each part's table, then one summary; writes it to bench-results/.
# Nothing is asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${ROUNDS:-3}"
mkdir -p bench-results
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out="bench-results/disk-rows-$(date -u +%Y%m%dT%H%M%SZ).txt"

echo "### 1. disk hits, working set 4x memory"
ROUNDS="$rounds" scripts/bench-disk-peers.sh "${REQUESTS:-3000}" | tee "$tmp/peers.txt"

echo "### 2. Zipf hit ratio, memory + disk against memory alone"
go test -run '^$' -bench 'HitRatio_zipfMemoryAndDisk' -benchtime 1x ./edge/ | tee "$tmp/zipf.txt"

echo "### 3. restart to warm"
ROUNDS="${WARM_ROUNDS:-2}" scripts/bench-disk-warm.sh | tee "$tmp/warm.txt"

{
	echo "## disk tier summary, $(date -u +%FT%TZ), shoal $(git describe --always --dirty 2>/dev/null || echo unknown)"
	echo "disk hits, Shoal/nginx req/s (above 1: Shoal faster):"
	sed -n '/^## disk hits, Shoal/,$p' "$tmp/peers.txt" | tail -n +2 | sed 's/^/  /'
	echo "Zipf hit ratio (memory+disk)/(memory alone), and the share of memory's misses disk answers:"
	awk '/^BenchmarkHitRatio_zipfMemoryAndDisk/ {
		name = $1; sub(/^BenchmarkHitRatio_zipfMemoryAndDisk\//, "", name); sub(/-[0-9]+$/, "", name)
		for (i = 1; i < NF; i++) { v[$(i + 1)] = $i }
		both = v["memory+disk-hit-ratio"]; mem = v["memory-hit-ratio"]
		printf "  %-28s memory %.3f  memory+disk %.3f  ratio %.2fx  misses answered by disk %.0f%%\n",
			name, mem, both, (mem > 0 ? both / mem : 0), (mem < 1 ? 100 * (both - mem) / (1 - mem) : 0)
	}' "$tmp/zipf.txt"
	echo "restart to warm (ms until 95% of pre-restart hits are hits again), median, Shoal/nginx (below 1: Shoal faster):"
	awk '$1 ~ /^[0-9]+$/ && $2 ~ /^(shoal-term|shoal-kill|nginx)$/ && $4 ~ /^[0-9]+$/ { w[$2] = w[$2] " " $4 }
		function median(s,   a, k, i, j, x) {
			k = split(s, a, " ")
			for (i = 2; i <= k; i++) { x = a[i]; for (j = i - 1; j > 0 && a[j] + 0 > x + 0; j--) a[j + 1] = a[j]; a[j + 1] = x }
			return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
		}
		END {
			n = median(w["nginx"])
			printf "  nginx        %6.0f ms   (runs:%s)\n", n, w["nginx"]
			for (s = 1; s <= 2; s++) {
				t = s == 1 ? "shoal-term" : "shoal-kill"; m = median(w[t])
				printf "  %-12s %6.0f ms   %.2fx nginx   (runs:%s)\n", t, m, (n > 0 ? m / n : 0), w[t]
			}
		}' "$tmp/warm.txt"
} | tee "$out"
echo "results: $out"
