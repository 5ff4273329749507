#!/usr/bin/env bash
# Hit and miss requests/s for 1 KiB objects: Shoal next to nginx proxy_cache, same origin,
# same load generator, one run. The servers under test are pinned to core 0 and wrk to core 1.
# Usage: scripts/bench-edge.sh [seconds-per-run]   (needs nginx and wrk; installs them if root)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
for pkg in nginx:nginx-light wrk:wrk; do
  command -v "${pkg%%:*}" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "${pkg##*:}" >/dev/null; }
done
[ -x bin/shoal ] || go build -o bin/shoal ./cmd/shoal
work=$(mktemp -d)
results="bench-results/edge-$(date -u +%Y%m%dT%H%M%SZ).txt"
mkdir -p bench-results "$work/www"
head -c 1024 /dev/urandom > "$work/www/1k.bin"
cleanup() { kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

cat > "$work/origin.conf" <<CONF
daemon off; master_process off; worker_processes 1; pid $work/origin.pid; error_log $work/origin.err;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:18100; root $work/www; location / { expires 1h; } } }
CONF
cat > "$work/proxy.conf" <<CONF
daemon off; master_process off; worker_processes 1; pid $work/proxy.pid; error_log $work/proxy.err;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  proxy_cache_path $work/cache keys_zone=c:64m max_size=1g inactive=1h use_temp_path=off;
  upstream origin { server 127.0.0.1:18100; keepalive 64; }
  server { listen 127.0.0.1:18101;
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection "";
                 proxy_cache c; proxy_cache_valid 200 1h; proxy_cache_lock on; } } }
CONF
cat > "$work/shoal.yaml" <<CONF
node: {name: bench}
listen: {http: "127.0.0.1:18102", admin: "127.0.0.1:18103"}
log: {access: "off", level: warn}
cache: {memory: 1GiB}
origins: {o: {servers: [{url: "http://127.0.0.1:18100"}]}}
routes: [{match: {path_prefix: /}, origin: o, cache: true}]
CONF
cat > "$work/miss.lua" <<'LUA'
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/1k.bin?miss=" .. n .. "-" .. math.random(1e9))
end
LUA
taskset -c 0 nginx -p "$work" -c "$work/origin.conf" &
taskset -c 0 nginx -p "$work" -c "$work/proxy.conf" &
taskset -c 0 bin/shoal run -c "$work/shoal.yaml" >/dev/null 2>"$work/shoal.err" &
sleep 1

run() { # name url script
  local out
  out=$(taskset -c 1 wrk -t1 -c64 -d"${secs}s" --latency ${3:+-s "$3"} "$2" 2>&1)
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  printf '%-24s %12s %10s %10s\n' "$1" "$rps" "$p50" "$p99"
}
{
  echo "1 KiB objects, ${secs}s per run, wrk -t1 -c64, servers on core 0, wrk on core 1 ($(date -u))"
  printf '%-24s %12s %10s %10s\n' target req/s p50 p99
  for url in http://127.0.0.1:18101/1k.bin http://127.0.0.1:18102/1k.bin; do curl -s -o /dev/null "$url"; done
  run "nginx proxy_cache hit" http://127.0.0.1:18101/1k.bin
  run "shoal hit" http://127.0.0.1:18102/1k.bin
  run "nginx proxy_cache miss" http://127.0.0.1:18101 "$work/miss.lua"
  run "shoal miss" http://127.0.0.1:18102 "$work/miss.lua"
} | tee "$results"
echo "results: $results"
