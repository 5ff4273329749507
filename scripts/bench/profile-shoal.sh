#!/usr/bin/env bash
# CPU profile of a Shoal node under one of run.sh's workloads, with perf (cpu-clock, call
# graphs; Go keeps frame pointers). Same origin, pinning and wrk flags as run.sh.
# Usage: [SECONDS_PER_RUN=10] [SYSCALLS=1] [SHOAL_BIN=bin/shoal] [PROFILE_TARGET=refproxy] scripts/bench/profile-shoal.sh [hit-1k|hit-16k|hit-256k|hit-1m|pass-1k|miss-1k]
# PERF_DATA=FILE keeps perf.data there for `perf report -i FILE` (call graphs of one symbol).
# SYSCALLS=1 adds a second, shorter wrk run (SYSCALL_SECONDS, 3) under `strace -c -f` and
# prints the syscalls per response and how many of them failed (a read that found nothing,
# EAGAIN): strace slows the node, so its req/s is not a number to compare, only the count
# per request.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
workload=${1:-hit-1k}
secs=${SECONDS_PER_RUN:-10}
conns=${CONNECTIONS:-64}
objects=0 rounds=0 objects_total=0 mem_mib=2048
if [ "${SYSCALLS:-0}" = 1 ]; then
  command -v strace >/dev/null || { apt-get update -qq && apt-get install -y -qq strace >/dev/null; }
fi
. "$here/profile-setup.sh" shoal-profile
out="bench-results/profile-${PROFILE_TARGET:+$PROFILE_TARGET-}$workload-$(date -u +%Y%m%dT%H%M%SZ).txt"
write_origin
write_shoal
taskset -c 0 nginx -p "$work" -c "$work/origin.conf" &
pid_origin=$!
# PROFILE_TARGET=refproxy profiles the bare fasthttp proxy (scripts/bench/refproxy) on Shoal's
# port instead: the same workload, the stack's floor, to diff against Shoal's profile.
if [ "${PROFILE_TARGET:-shoal}" = refproxy ]; then
  go build -o "$work/refproxy" ./scripts/bench/refproxy
  taskset -c 0 "$work/refproxy" -listen "127.0.0.1:$port_shoal" -origin "127.0.0.1:$port_origin" >/dev/null 2>"$work/shoal.err" &
else
  taskset -c 0 "$shoal_bin" run -c "$work/shoal.yaml" >/dev/null 2>"$work/shoal.err" &
fi
pid_shoal=$!
wait_port "$port_origin"
wait_port "$port_shoal"
case $workload in
hit-1k) path=/1k.bin ;; hit-16k) path=/16k.bin ;; hit-256k) path=/256k.bin ;; hit-1m) path=/1m.bin ;;
pass-1k) path=/pass/1k.bin ;; miss-1k) path=/ ;;
*) echo "unknown workload $workload" >&2; exit 2 ;;
esac
url="http://127.0.0.1:$port_shoal$path"
curl -s -o /dev/null "$url"
curl -s -o /dev/null "$url"
perf record -e cpu-clock -g -p "$pid_shoal" -o "$work/perf.data" -- sleep "$((secs + 1))" 2>"$work/perf.err" &
perf_pid=$!
if [ "$workload" = miss-1k ]; then m=$(run_wrk "http://127.0.0.1:$port_shoal" "$here/miss.lua" "prof-$RANDOM"); else m=$(run_wrk "$url"); fi
wait "$perf_pid"
[ -n "${PERF_DATA:-}" ] && cp "$work/perf.data" "$PERF_DATA"
{
  echo "${PROFILE_TARGET:-shoal} $workload under wrk -t1 -c$conns -d${secs}s: rps p50_ms p99_ms requests errors client_cpu_us = $m"
  echo
  echo "== flat (self) =="
  perf report -i "$work/perf.data" --stdio --no-children --sort symbol -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -45 || true
  echo
  echo "== cumulative (children) =="
  perf report -i "$work/perf.data" --stdio --children --sort symbol -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -60 || true
} >"$out"
if [ "${SYSCALLS:-0}" = 1 ]; then
  strace -c -f -p "$pid_shoal" -o "$work/strace.txt" 2>/dev/null &
  strace_pid=$!
  sleep 0.5 # attached to every thread before the load starts
  secs=${SYSCALL_SECONDS:-3}
  if [ "$workload" = miss-1k ]; then m=$(run_wrk "http://127.0.0.1:$port_shoal" "$here/miss.lua" "strace-$RANDOM"); else m=$(run_wrk "$url"); fi
  kill -INT "$strace_pid"
  wait "$strace_pid" || true
  reqs=$(awk '{print $4}' <<<"$m")
  {
    echo
    echo "== syscalls under strace -c -f (wrk -d${secs}s: rps p50_ms p99_ms requests errors client_cpu_us = $m) =="
    strace_per_response "$work/strace.txt" "$reqs" request
  } >>"$out"
fi
cat "$out"
echo "profile: $out"
