#!/usr/bin/env bash
# Fills a Shoal node past its cache.memory with 1 KiB objects and reports the process RSS
# against the budget, and bytes per cached object. Usage: scripts/measure-memory.sh [MiB] [objects]
# SHOAL_BIN runs a given binary instead of bin/shoal (to compare two builds with the same args);
# GOMEMLIMIT, when set, replaces the soft memory limit shoal derives from cache.memory.
# Besides RSS it prints the Go heap in use, the collections and the CPU the fill took (what a
# tighter memory limit costs), and the memory rows of the newest bench-results/bench-*.txt
# (Varnish, nginx and HAProxy from make bench-peers) when there is one.
set -euo pipefail
cd "$(dirname "$0")/.."
budget_mib="${1:-256}"
objects="${2:-400000}"
command -v nginx >/dev/null || { apt-get update -qq && apt-get install -y -qq nginx-light >/dev/null; }
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
shoal="${SHOAL_BIN:-bin/shoal}"
[ -n "${SHOAL_BIN:-}" ] || [ -x bin/shoal ] || go build -o bin/shoal ./cmd/shoal
work=$(mktemp -d)
cleanup() { kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/www" && head -c 1024 /dev/urandom > "$work/www/1k.bin"
cat > "$work/origin.conf" <<CONF
daemon off; master_process off; worker_processes 1; pid $work/o.pid; error_log $work/o.err;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:18200; root $work/www; location / { expires 1h; } } }
CONF
cat > "$work/shoal.yaml" <<CONF
node: {name: mem}
listen: {http: "127.0.0.1:18201", admin: "127.0.0.1:18202"}
log: {access: "off", level: warn}
cache: {memory: ${budget_mib}MiB}
origins: {o: {servers: [{url: "http://127.0.0.1:18200"}]}}
routes: [{match: {path_prefix: /}, origin: o, cache: true}]
CONF
cat > "$work/fill.lua" <<LUA
local n = 0
request = function() n = n + 1; return wrk.format("GET", "/1k.bin?o=" .. n) end
LUA
nginx -p "$work" -c "$work/origin.conf" &
# gctrace's last line gives the live heap the collector marked, which no limit or headroom blurs.
GODEBUG="${GODEBUG:+$GODEBUG,}gctrace=1" "$shoal" run -c "$work/shoal.yaml" 2>"$work/shoal.err" &
pid=$!
sleep 1
idle_rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
metric() { awk -v m="$1" '$1 == m {print $2}' <<<"$2"; }
m0=$(curl -s http://127.0.0.1:18202/metrics)
gc_lines0=$(grep -c '^gc ' "$work/shoal.err" || true)
t0=$(date +%s.%N)
# wrk runs until stopped: stop it once the node has fetched the requested objects.
wrk -t1 -c32 -d600s -s "$work/fill.lua" http://127.0.0.1:18201 >/dev/null &
wrk_pid=$!
until [ "$(curl -s http://127.0.0.1:18202/metrics | awk '/^shoal_edge_cache_misses_total/ {print int($2)}')" -ge "$objects" ] 2>/dev/null; do
  sleep 0.5
done
kill $wrk_pid; wait $wrk_pid 2>/dev/null || true
t1=$(date +%s.%N)
sleep 1
rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
metrics=$(curl -s http://127.0.0.1:18202/metrics)
stored=$(awk '/^shoal_cachestore_objects/ {print $2}' <<<"$metrics")
bytes=$(awk '/^shoal_cachestore_bytes/ {print $2}' <<<"$metrics")
heap=$(metric go_memstats_heap_inuse_bytes "$metrics")
# The collector's own CPU in the fill, from gctrace's "a+b/c/d+e ms cpu" of each collection
# since the fill began: the stop-the-world phases (a and e), mark assists (b) and background
# marking (c); idle marking (d) runs only on a core nothing else wanted. What a pacing change
# costs, without the noise of the whole fill's CPU.
gc_cpu=$(tail -n +$((gc_lines0 + 1)) "$work/shoal.err" | awk '/^gc / {
  for (i = 1; i <= NF; i++) if ($(i+1) == "ms" && $(i+2) == "cpu,") { split($i, p, "[+/]"); s += p[1] + p[2] + p[3] + p[5] }
} END { printf "%.3f", s / 1000 }')
gcs=$(( $(metric go_gc_duration_seconds_count "$metrics") - $(metric go_gc_duration_seconds_count "$m0") ))
live_mib=$(grep -o '[0-9]*->[0-9]*->[0-9]* MB' "$work/shoal.err" | tail -1 | sed 's/.*->\([0-9]*\) MB/\1/')
allocated=$(awk -v a="$(metric go_memstats_alloc_bytes_total "$m0")" -v b="$(metric go_memstats_alloc_bytes_total "$metrics")" 'BEGIN {print b-a}')
# The collector's percent at the end: 100, 50 (cmd/shoal's switch: a store over 64 MiB, not
# full), or off (read as 2^64-1: a full store).
gogc=$(metric go_gc_gogc_percent "$metrics" | awk '{print ($1 > 1e18 ? "off" : $1)}')
cpu=$(awk -v a="$(metric process_cpu_seconds_total "$m0")" -v b="$(metric process_cpu_seconds_total "$metrics")" 'BEGIN {print b-a}')
awk -v idle="$idle_rss" -v heap="$heap" -v gcs="$gcs" -v cpu="$cpu" -v allocated="$allocated" -v live="${live_mib:-0}" -v secs="$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b-a}')" -v limit="${GOMEMLIMIT:-derived from cache.memory}" -v gogc="${gogc:-?}" -v gccpu="${gc_cpu:-0}" -v rss="$rss" -v budget="$budget_mib" -v objs="$stored" -v bytes="$bytes" -v sent="$objects" 'BEGIN {
  printf "cache.memory budget     %d MiB\n", budget
  printf "objects requested       %d (1 KiB each)\n", sent
  printf "objects held            %d\n", objs
  printf "store charged bytes     %.1f MiB\n", bytes/1048576
  printf "RSS idle / filled       %.1f MiB / %.1f MiB (%.2fx budget)\n", idle/1024, rss/1024, rss/1024/budget
  printf "RSS per held object     %.0f bytes (%.0f above the 1 KiB body)\n", (rss-idle)*1024/objs, (rss-idle)*1024/objs-1024
  printf "Go heap in use          %.1f MiB (%.2fx budget); GOMEMLIMIT %s; GOGC at the end %s\n", heap/1048576, heap/1048576/budget, limit, gogc
  printf "live heap, last GC      %d MiB (%.0f bytes per held object, %.0f above the body)\n", live, live*1048576/objs, live*1048576/objs-1024
  printf "fill                    %.1f s, %d collections, %.1f s of CPU (%.0f us per object requested)\n", secs, gcs, cpu, cpu*1e6/sent
  printf "collector CPU in fill   %.2f s (%.1f us per object requested; assists, background and STW, gctrace)\n", gccpu, gccpu*1e6/sent
  printf "allocated in the fill   %.2f GiB (%.1f KiB per object requested)\n", allocated/1073741824, allocated/1024/sent
}'
latest=$(grep -l '^varnish .*B/object\|^varnish  *[0-9]' bench-results/bench-2*.txt 2>/dev/null | tail -1 || true)
if [ -n "$latest" ]; then
  echo
  echo "from $latest (make bench-peers: a smaller fill, RSS before and after it):"
  sed -n '/^memory per cached/,/^$/p' "$latest" | grep -E '^(target|varnish|nginx|haproxy)'
fi
