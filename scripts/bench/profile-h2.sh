#!/usr/bin/env bash
# CPU profile of a Shoal node serving HTTP/2 cache hits over TLS, the way bench-h2.sh loads
# it: Shoal on core 0, h2load on core 1 (-c CONNECTIONS, -m STREAMS), with perf (cpu-clock,
# call graphs; Go keeps frame pointers). Prints the flat and cumulative tables and the
# syscalls per response when SYSCALLS=1 (under strace, whose req/s means nothing).
# Usage: [SECONDS_PER_RUN=10] [STREAMS=10] [CONNECTIONS=64] [SHOAL_BIN=bin/shoal]
#        [PERF_DATA=FILE] [SYSCALLS=1] scripts/bench/profile-h2.sh [1k|16k]
set -euo pipefail
cd "$(dirname "$0")/../.."
size=${1:-1k}
secs=${SECONDS_PER_RUN:-10}
streams=${STREAMS:-10}
conns=${CONNECTIONS:-64}
shoal_bin=${SHOAL_BIN:-bin/shoal}
command -v perf >/dev/null || { apt-get update -qq && apt-get install -y -qq linux-perf >/dev/null; }
command -v h2load >/dev/null || { apt-get update -qq && apt-get install -y -qq nghttp2-client >/dev/null; }
if [ "${SYSCALLS:-0}" = 1 ]; then
  command -v strace >/dev/null || { apt-get update -qq && apt-get install -y -qq strace >/dev/null; }
fi
[ -x "$shoal_bin" ] || go build -o "$shoal_bin" ./cmd/shoal
. scripts/tls-workdir.sh # $work with cert.pem, key.pem, www/; stops the servers on exit
port_origin=18620 port_shoal=18621 port_shoal_admin=18622
head -c 1024 /dev/urandom >"$work/www/1k.bin"
head -c 16384 /dev/urandom >"$work/www/16k.bin"
cat >"$work/origin.conf" <<CONF
daemon off; master_process off; worker_processes 1; pid $work/origin.pid; error_log $work/origin.err;
events { worker_connections 1024; }
http { access_log off; default_type application/octet-stream;
  server { listen 127.0.0.1:$port_origin; root $work/www; location / { expires 1h; } } }
CONF
. scripts/bench/h2shoal.sh
. scripts/bench/measure.sh # strace_per_response
write_h2_shoal
taskset -c 0 nginx -p "$work" -c "$work/origin.conf" &
taskset -c 0 "$shoal_bin" run -c "$work/shoal.yaml" >/dev/null 2>"$work/shoal.err" &
pid_shoal=$!
for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$port_shoal") 2>/dev/null && break; sleep 0.1; done
url="https://127.0.0.1:$port_shoal/$size.bin"
curl -sk -o /dev/null "$url"
curl -sk -o /dev/null "$url"
load() { taskset -c 1 h2load -c "$conns" -t 1 -m "$streams" -D "$1" --tls13-ciphers=TLS_AES_128_GCM_SHA256 "$url" 2>&1; }
out="bench-results/profile-h2-$size-m$streams-$(date -u +%Y%m%dT%H%M%SZ).txt"
mkdir -p bench-results
perf record -e cpu-clock -g -p "$pid_shoal" -o "$work/perf.data" -- sleep "$secs" 2>"$work/perf.err" &
perf_pid=$!
m=$(load "$secs" | awk '/^finished in/ || /^requests:/')
wait "$perf_pid"
[ -n "${PERF_DATA:-}" ] && cp "$work/perf.data" "$PERF_DATA"
{
  echo "shoal h2 hit-$size-m$streams, h2load -c$conns -m$streams -D${secs}s:"
  echo "$m"
  echo
  echo "== flat (self) =="
  perf report -i "$work/perf.data" --stdio --no-children --sort symbol -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | sed 's/  *- *- *$//' | head -50 || true
  echo
  echo "== cumulative (children) =="
  perf report -i "$work/perf.data" --stdio --children --sort symbol -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | sed 's/  *- *- *$//' | grep -v '\[k\]' | head -70 || true
} >"$out"
if [ "${SYSCALLS:-0}" = 1 ]; then
  strace -c -f -p "$pid_shoal" -o "$work/strace.txt" 2>/dev/null &
  strace_pid=$!
  sleep 0.5
  m=$(load 3)
  kill -INT "$strace_pid"
  wait "$strace_pid" || true
  reqs=$(awk '/^requests:/ {print $8}' <<<"$m")
  {
    echo
    echo "== syscalls under strace -c -f (h2load -D3s, $reqs responses) =="
    strace_per_response "$work/strace.txt" "$reqs" response
  } >>"$out"
fi
cat "$out"
echo "profile: $out"
