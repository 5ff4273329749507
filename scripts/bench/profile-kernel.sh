#!/usr/bin/env bash
# What the kernel does for a Shoal node per response under one of run.sh's workloads: context
# switches (voluntary and not) and minor page faults per response, for the whole process and
# per thread, with each thread's CPU, so the thread that switches can be named (sysmon has
# almost no CPU and many voluntary switches; the threads that run Go code have the CPU).
# Same origin, pinning and wrk flags as run.sh; take the bench lock (the ports are run.sh's).
# Usage: [SECONDS_PER_RUN=8] [MEM_MIB=2048] [WARM=0] [TARGET=shoal|haproxy|nginx] [SHOAL_BIN=bin/shoal] [SHOAL_GODEBUG=gctrace=1,scavtrace=1]
#        [PAGE_FAULTS=1] scripts/bench/profile-kernel.sh [hit-1k|pass-1k|miss-1k]
# EVENTS=list counts perf events over the load (perf stat -e list), e.g. context-switches or
# uprobes on the runtime (perf probe -x bin/shoal --add handoffp=runtime.handoffp).
# EXPERIMENT_HOOK='shell code' runs once the servers are up, with $pid_shoal set (e.g. a
# per-thread setting to try: 'for t in /proc/$pid_shoal/task/*; do echo 200000
# >/proc/${t##*/}/timerslack_ns; done').
# PAGE_FAULTS=1 also records where the page faults happen (perf record -e page-faults -g) and
# prints the top call chains. SHOAL_GODEBUG's lines (the collector's, the scavenger's) are
# printed at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
workload=${1:-pass-1k}
secs=${SECONDS_PER_RUN:-8}
conns=${CONNECTIONS:-64}
objects=0 rounds=0 objects_total=0 mem_mib=${MEM_MIB:-2048}
. "$here/profile-setup.sh" shoal-kprofile
out="bench-results/kernel-${TARGET:-shoal}-$workload-$(date -u +%Y%m%dT%H%M%SZ).txt"
# PORT_BASE=N moves every port to N + (its offset from 18300): counts per response (switches,
# faults, EVENTS) taken without the bench lock, on a busy machine, in nobody's way. Times
# and CPU then are not numbers to compare.
if [ -n "${PORT_BASE:-}" ]; then
  for v in $(compgen -v port_); do eval "$v=\$((${!v} - 18300 + PORT_BASE))"; done
fi
write_origin
taskset -c 0 nginx -p "$work" -c "$work/origin.conf" &
pid_origin=$!
# TARGET=haproxy|nginx measures that peer instead, configured as run.sh configures it (the
# variables keep Shoal's names: pid_shoal is the server measured, port_shoal its port).
case ${TARGET:-shoal} in
shoal)
  write_shoal
  env ${SHOAL_GODEBUG:+GODEBUG=$SHOAL_GODEBUG} taskset -c 0 "$shoal_bin" run -c "$work/shoal.yaml" >/dev/null 2>"$work/shoal.err" &
  pid_shoal=$! ;;
haproxy)
  write_haproxy
  taskset -c 0 haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
  pid_shoal=$! port_shoal=$port_haproxy ;;
nginx)
  mkdir -p "$cache_dir"
  write_nginx
  taskset -c 0 nginx -p "$work" -c "$work/nginx.conf" &
  pid_shoal=$! port_shoal=$port_nginx ;;
*) echo "unknown TARGET $TARGET" >&2; exit 2 ;;
esac
wait_port "$port_origin"
wait_port "$port_shoal"
[ -n "${EXPERIMENT_HOOK:-}" ] && eval "$EXPERIMENT_HOOK"
case $workload in
hit-1k) path=/1k.bin ;; pass-1k) path=/pass/1k.bin ;; miss-1k) path=/ ;;
*) echo "unknown workload $workload" >&2; exit 2 ;;
esac
url="http://127.0.0.1:$port_shoal$path"
curl -s -o /dev/null "$url"
curl -s -o /dev/null "$url"
# WARM=N: N unmeasured runs of the workload first (miss-1k with a small MEM_MIB: a full cache).
for _ in $(seq 1 "${WARM:-0}"); do
  if [ "$workload" = miss-1k ]; then run_wrk "http://127.0.0.1:$port_shoal" "$here/miss.lua" "warm-$RANDOM" >/dev/null; else run_wrk "$url" >/dev/null; fi
done

# threads PID prints "tid voluntary nonvoluntary cpu_ticks" for each thread of PID.
threads() {
  local t
  for t in /proc/"$1"/task/*; do
    awk -v tid="${t##*/}" '/^voluntary_ctxt_switches/ {v = $2} /^nonvoluntary_ctxt_switches/ {n = $2}
      END {printf "%s %s %s ", tid, v, n}' "$t/status" 2>/dev/null || continue
    awk '{sub(/^.*\) /, ""); print $12 + $13}' "$t/stat" 2>/dev/null || echo 0
  done
}
# cpu_ticks_of PID: user + system clock ticks (1/100 s) of every thread of PID so far.
cpu_ticks_of() { awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$1/stat"; }
# minflt PID: the process's minor faults so far (every thread, /proc/PID/stat field 10).
minflt() { awk '{sub(/^.*\) /, ""); print $8}' "/proc/$1/stat"; }

threads "$pid_shoal" >"$work/before"
threads "$pid_origin" >"$work/origin.before"
accepts0=$(curl -s "http://127.0.0.1:$port_origin/_status" | awk 'NR == 3 {print $1}')
flt0=$(minflt "$pid_shoal")
cpu0=$(cpu_ticks_of "$pid_shoal") ocpu0=$(cpu_ticks_of "$pid_origin")
rss0=$(awk '/^VmRSS/ {print $2}' "/proc/$pid_shoal/status")
if [ "${PAGE_FAULTS:-0}" = 1 ]; then
  perf record -e page-faults -g -p "$pid_shoal" -o "$work/pf.data" -- sleep "$((secs + 1))" 2>"$work/perf.err" &
  perf_pid=$!
fi
if [ -n "${EVENTS:-}" ]; then
  perf stat -x, -e "$EVENTS" -p "$pid_shoal" -o "$work/stat.txt" -- sleep "$secs" 2>/dev/null &
  stat_pid=$!
fi
if [ "$workload" = miss-1k ]; then m=$(run_wrk "http://127.0.0.1:$port_shoal" "$here/miss.lua" "kprof-$RANDOM"); else m=$(run_wrk "$url"); fi
threads "$pid_shoal" >"$work/after"
threads "$pid_origin" >"$work/origin.after"
accepts1=$(curl -s "http://127.0.0.1:$port_origin/_status" | awk 'NR == 3 {print $1}')
flt1=$(minflt "$pid_shoal")
cpu1=$(cpu_ticks_of "$pid_shoal") ocpu1=$(cpu_ticks_of "$pid_origin")
rss1=$(awk '/^VmRSS/ {print $2}' "/proc/$pid_shoal/status")
[ "${PAGE_FAULTS:-0}" = 1 ] && wait "$perf_pid"
[ -n "${EVENTS:-}" ] && wait "$stat_pid"
reqs=$(awk '{print $4}' <<<"$m")

# per_thread BEFORE AFTER: one line per thread that switched, most switches first, and a total.
per_thread() {
  awk -v reqs="$reqs" 'NR == FNR {v[$1] = $2; n[$1] = $3; c[$1] = $4; next}
    { dv = $2 - v[$1]; dn = $3 - n[$1]; dc = $4 - c[$1]
      if (dv + dn > 0) printf "%-8s %9d %9d %7.3f %7.3f %6d\n", $1, dv, dn, dv / reqs, dn / reqs, dc
      tv += dv; tn += dn }
    END { printf "%-8s %9d %9d %7.3f %7.3f\n", "total", tv, tn, tv / reqs, tn / reqs }' "$1" "$2" | sort -k2,2nr -k3,3nr
}
{
  echo "${TARGET:-shoal} $workload under wrk -t1 -c$conns -d${secs}s: rps p50_ms p99_ms requests errors client_cpu_us = $m"
  awk -v s=$((cpu1 - cpu0)) -v o=$((ocpu1 - ocpu0)) -v r="$reqs" \
    'BEGIN {printf "CPU per response: %.1f us, origin %.1f us\n", s * 1e4 / r, o * 1e4 / r}'
  echo "minor page faults: $((flt1 - flt0)) ($(awk -v f=$((flt1 - flt0)) -v r="$reqs" 'BEGIN {printf "%.3f", f / r}') per response); RSS $rss0 -> $rss1 KiB"
  echo
  echo "== ${TARGET:-shoal} threads: tid voluntary involuntary (per response: vol invol) cpu_ticks =="
  per_thread "$work/before" "$work/after"
  echo
  echo "== origin (nginx): $((accepts1 - accepts0)) connections accepted =="
  per_thread "$work/origin.before" "$work/origin.after"
  if [ "${PAGE_FAULTS:-0}" = 1 ]; then
    echo
    echo "== page faults by call chain (perf record -e page-faults -g) =="
    perf report -i "$work/pf.data" --stdio --no-children --sort symbol -g caller,0.5,callee --percent-limit 2 2>/dev/null |
      grep -v '^#' | grep -v '^$' | head -80 || true
  fi
  if [ -n "${EVENTS:-}" ]; then
    echo
    echo "== perf stat -e EVENTS over the load: count, per response =="
    awk -F, -v reqs="$reqs" '$1 ~ /^[0-9]+$/ {printf "%-40s %10d %8.4f\n", $3, $1, $1 / reqs}' "$work/stat.txt"
  fi
  if [ -n "${SHOAL_GODEBUG:-}" ]; then
    echo
    echo "== shoal stderr (GODEBUG=$SHOAL_GODEBUG), last 40 lines =="
    tail -40 "$work/shoal.err"
  fi
} >"$out"
cat "$out"
echo "profile: $out"
