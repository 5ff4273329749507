# Sourced by run.sh: one wrk run, one fixed-rate latency run, process memory, and per-target
# object counts.
# Needs $work, $cache_dir, the ports from configs.sh, and the pid_* variables of run.sh.

# to_ms converts wrk's latency notation (812.00us, 1.23ms, 2.01s) to milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
    else printf "nan" }'
}

# origin_requests is the origin's request counter (nginx stub_status); each call adds one.
origin_requests() {
  curl -s "http://127.0.0.1:$port_origin/_status" | awk 'NR == 3 {print $3}'
}

# timed CMD... runs CMD pinned to core 1 with its output in $work/client.out and prints the
# CPU time (user + system, every thread and child) it took, in microseconds: the client's own
# cost, to set beside how busy its core was.
timed() {
  local t
  t=$({ TIMEFORMAT='%U %S'; time taskset -c 1 "$@" >"$work/client.out" 2>&1 || true; } 2>&1)
  awk -v t="$t" 'BEGIN {split(t, c, " "); printf "%.0f", (c[1] + c[2]) * 1e6}'
}

# run_wrk URL [SCRIPT [ARGS...]] prints "rps p50_ms p99_ms requests errors client_cpu_us" for
# one run with the load generator pinned to core 1. Every target gets exactly these flags.
run_wrk() {
  local url=$1 out cpu
  shift
  if [ $# -gt 0 ]; then
    local script=$1
    shift
    cpu=$(timed wrk -t1 -c"$conns" -d"${secs}s" --latency -s "$script" "$url" -- "$@")
  else
    cpu=$(timed wrk -t1 -c"$conns" -d"${secs}s" --latency "$url")
  fi
  out=$(cat "$work/client.out")
  printf '%s\n' "$out" >>"$work/wrk.log"
  local rps p50 p99 reqs errs
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  errs=$(awk '/Non-2xx/ {n += $NF} /Socket errors/ {gsub(/,/, ""); n += $4 + $6 + $8 + $10} END {print n + 0}' <<<"$out")
  echo "${rps:-0} $(to_ms "${p50:-nan}") $(to_ms "${p99:-nan}") ${reqs:-0} $errs $cpu"
}

# run_sink URL SIZE prints the same fields as run_wrk for one run of scripts/bench/sinkload
# (the same connections and seconds, pinned to core 1), which discards bodies in the kernel
# instead of copying them. A row it refuses (bodies not SIZE bytes, or errors) gets req/s 0
# and at least one error, so no ratio is made of it.
run_sink() {
  local url=$1 size=$2 cpu out rps p50 p99 reqs errs
  cpu=$(timed "$sinkload" -url "$url" -size "$size" -c "$conns" -d "${secs}s")
  out=$(cat "$work/client.out")
  printf '%s %s\n%s\n' "$url" "$size" "$out" >>"$work/sinkload.log"
  read -r rps p50 p99 reqs errs _ < <(grep -v '^sinkload:' <<<"$out" | tail -1)
  if grep -q '^sinkload: row refused' <<<"$out"; then rps=0 errs=$((${errs:-0} > 0 ? errs : 1)); fi
  echo "${rps:-0} ${p50:-nan} ${p99:-nan} ${reqs:-0} ${errs:-1} $cpu"
}

# run_latency TARGET WORKLOAD ROUND prints the tab-separated line of scripts/bench/latency
# (p50_ms p99_ms p999_ms success requests sent_per_s errors) for one fixed-rate run with the
# load pinned to core 1. Every target gets the same rate, duration, connections and, per round,
# the same Zipf seed, so the same URLs in the same order.
run_latency() {
  local t=$1 w=$2 round=$3 out
  local args=(-base "http://127.0.0.1:$(port_of "$t")" -rate "$rate" -duration "${secs}s" -connections "$conns")
  case $w in
  hit-1k) args+=(-scenario hit -path /1k.bin) ;;
  hit-16k) args+=(-scenario hit -path /16k.bin) ;;
  zipf-1k) args+=(-scenario zipf -prefix "/fill/$t/" -keys "$objects" -zipf-s 0.9 -seed "$round") ;;
  esac
  if ! out=$(taskset -c 1 "$latency" "${args[@]}" 2>>"$work/latency.log"); then
    out=$(printf 'nan\tnan\tnan\t0\t0\t0\t0')
  fi
  printf '%s\n' "$out"
}

# server_pids lists the processes that hold a target's cache: Varnish's child (not the
# manager), and the single process of the others (nginx runs with master_process off).
server_pids() {
  case $1 in
  varnish) pgrep -P "$pid_varnish" ;;
  nginx)
    # FULL_CACHE_MIB runs nginx with its master, a worker and the cache manager.
    echo "$pid_nginx"
    if [ -n "${full_mib:-}" ]; then pgrep -P "$pid_nginx" || true; fi ;;
  haproxy) echo "$pid_haproxy" ;;
  shoal) echo "$pid_shoal" ;;
  shoal-policy) echo "$pid_shoal_policy" ;;
  shoal-base) echo "$pid_shoal_base" ;;
  shoal-disk) echo "$pid_shoal_disk" ;;
  refproxy) echo "$pid_refproxy" ;;
  esac
}

# rss_kib sums VmRSS over a target's server processes. nginx's processes with its master (the
# FULL_CACHE_MIB runs) share the keys_zone, so they sum Pss instead: shared pages count once.
rss_kib() {
  local total=0 pid kib
  for pid in $(server_pids "$1"); do
    if [ "$1" = nginx ] && [ -n "${full_mib:-}" ]; then
      kib=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || echo 0)
    else
      kib=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    fi
    total=$((total + ${kib:-0}))
  done
  echo "$total"
}

# cpu_ticks sums the CPU time (user + system, in clock ticks of 1/100 s) that a target's
# server processes have used so far, every thread included (/proc/PID/stat fields 14 and 15).
# A run's difference divided by its requests is the target's CPU per response: what it costs
# whether or not the load generator kept it busy.
cpu_ticks() {
  local total=0 pid t
  for pid in $(server_pids "$1"); do
    t=$(awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$pid/stat" 2>/dev/null || echo 0)
    total=$((total + ${t:-0}))
  done
  echo "$total"
}

# ctx_switches prints "voluntary involuntary" context switches that a target's server
# processes have made so far, every thread included (/proc/PID/task/*/status). Per response,
# the involuntary ones are the target preempted on its core (by the origin it woke, say), and
# each costs the target CPU: with the refproxy row they tell scheduling from code.
ctx_switches() {
  local pid v=0 n=0 a b
  for pid in $(server_pids "$1"); do
    read -r a b < <(cat /proc/"$pid"/task/*/status 2>/dev/null |
      awk '/^voluntary_ctxt_switches/ {v += $2} /^nonvoluntary_ctxt_switches/ {n += $2} END {print v + 0, n + 0}')
    v=$((v + ${a:-0})) n=$((n + ${b:-0}))
  done
  echo "$v $n"
}

# core_times prints "busy idle" clock ticks of one core so far (/proc/stat; iowait counts as
# idle). Two samples give the share of a run the core was busy, whoever kept it busy.
core_times() {
  awk -v c="cpu$1" '$1 == c {print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6}' /proc/stat
}

# objects_held counts what a target's cache holds right now, from its own accounting.
objects_held() {
  case $1 in
  varnish) varnishstat -n "$work/varnish" -1 -f MAIN.n_object | awk '{print $2}' ;;
  nginx) { find "$cache_dir" -type f 2>/dev/null || true; } | wc -l ;;
  haproxy) haproxy_cli "show cache" | grep -c '^ *0x[0-9a-f]* hash:' ;;
  shoal | shoal-policy | shoal-base)
    local admin="port_${1//-/_}_admin"
    curl -s "http://127.0.0.1:${!admin}/metrics" | awk '$1 ~ /^shoal_cachestore_objects($|{)/ {n += $2} END {print n + 0}' ;;
  esac
}

# disk_hits prints shoal-disk's disk tier hits so far (shoal_cachestore_disk_hits_total), "-"
# for every other target. A disk hit is a memory miss the tier answered, so over a run the
# difference against the requests tells disk hits from memory hits and misses.
disk_hits() {
  [ "$1" = shoal-disk ] || { echo -; return; }
  curl -s "http://127.0.0.1:$port_shoal_disk_admin/metrics" | awk '$1 == "shoal_cachestore_disk_hits_total" {n = $2} END {printf "%d", n}'
}

# check_disk_hit TARGET PATH requests PATH once more after the warm-up and says on stderr
# (and in the raw rows) whether it was a disk hit without reaching the origin: the rows of
# shoal-disk mean nothing if its warm-up left the object in memory or not cached at all.
check_disk_hit() {
  local d0 d1 o0 o1 status i
  # The fill's record reaches a segment through the tier's write queue: wait for it to drain.
  for i in $(seq 50); do
    curl -s "http://127.0.0.1:$port_shoal_disk_admin/metrics" |
      awk '$1 ~ /^shoal_cachestore_disk_(queued|reserved)_bytes$/ {n += $2} END {exit n > 0}' && break
    sleep 0.1
  done
  d0=$(disk_hits "$1") o0=$(origin_requests)
  curl -s -o /dev/null "http://127.0.0.1:$(port_of "$1")$2"
  d1=$(disk_hits "$1") o1=$(origin_requests)
  status=ok
  if [ $((o1 - o0 - 1)) -ne 0 ]; then status="miss: reached the origin"
  elif [ $((d1 - d0)) -ne 1 ]; then status="not a disk hit (memory?)"; fi
  [ "$status" = ok ] || echo "warning: $1 $2 after the warm-up: $status" >&2
  printf 'warm\t%s\t%s\t%s\n' "$1" "$2" "$status" >>"$raw"
}

# wait_disk_ready waits up to 10 s for the Shoal whose admin port is $1 to report its disk
# tier ready (/stats.json) rather than loading.
wait_disk_ready() {
  local i
  for i in $(seq 100); do
    curl -s "http://127.0.0.1:$1/stats.json" | grep -q '"state": "ready"' && return 0
    sleep 0.1
  done
  echo "warning: the disk tier on admin port $1 is not ready after 10 s" >&2
}

# haproxy_cli sends one command to HAProxy's stats socket (a loopback TCP port).
haproxy_cli() {
  local reply
  exec 3<>"/dev/tcp/127.0.0.1/$port_haproxy_cli"
  printf '%s\n' "$1" >&3
  reply=$(cat <&3)
  exec 3<&-
  printf '%s\n' "$reply"
}

# extra_bytes is memory a target's RSS cannot show: nginx's cache files in the tmpfs (page
# cache), and the blocks HAProxy's cache entries take (its shared memory is all touched at start,
# and its "available blocks" count keeps unreferenced entries, so only the entries tell).
extra() {
  case $1 in
  nginx) nginx_body_bytes ;;
  haproxy) haproxy_cli "show cache" | awk -F'[(]' '/ hash:/ {split($2, b, " "); n += b[1]} END {print n + 0}' ;;
  *) echo 0 ;;
  esac
}

# cache_state prints "used_bytes evicted" from a target's own accounting, for FULL_CACHE_MIB:
# Varnish's malloc storage in use and its LRU nukes; the blocks (of nginx, the file system's,
# as its max_size counts them) of nginx's cache files; HAProxy's cache blocks (1024 B each)
# held by entries; Shoal's Object.Cost bytes, and its evictions + sets the cache policy refused
# or dropped. nginx and HAProxy count no evictions ("-"): held against filled shows them.
cache_state() {
  case $1 in
  varnish)
    varnishstat -n "$work/varnish" -1 -f SMA.s0.g_bytes -f MAIN.n_lru_nuked |
      awk '$1 == "SMA.s0.g_bytes" {b = $2} $1 == "MAIN.n_lru_nuked" {n = $2} END {printf "%d\t%d", b, n}' ;;
  nginx) printf '%s\t-' "$({ du -s -B1 "$cache_dir" 2>/dev/null || true; } | awk '{print $1}')" ;;
  haproxy) printf '%s\t-' "$(($(extra haproxy) * 1024))" ;;
  shoal | shoal-policy | shoal-base)
    local admin="port_${1//-/_}_admin"
    curl -s "http://127.0.0.1:${!admin}/metrics" | awk '
      $1 ~ /^shoal_cachestore_bytes($|{)/ {b += $2}
      $1 ~ /^shoal_cachestore_evictions_total($|{)/ {e += $2}
      $1 ~ /^shoal_cachestore_rejected_total($|{)/ {r += $2}
      END {printf "%d\t%d+%d", b, e, r}' ;;
  esac
}

# wait_evicted gives nginx's cache manager, which evicts after the fact, up to 60 s to bring
# the cache files under max_size; the other targets evict before they store.
wait_evicted() {
  [ "$1" = nginx ] || return 0
  local i
  for i in $(seq 120); do
    [ "$({ du -s -B1 "$cache_dir" 2>/dev/null || true; } | awk '{print $1}')" -le $((mem_mib * 1048576)) ] && return 0
    sleep 0.5
  done
}

# nginx_body_bytes is what the proxy_cache files occupy in the tmpfs (page cache, not RSS).
nginx_body_bytes() {
  { du -sb "$cache_dir" 2>/dev/null || true; } | awk '{print $1}'
}

# ports_in_use exits with a message naming every port of its arguments that something on
# 127.0.0.1 already accepts connections on.
ports_in_use() {
  local p taken=()
  for p in "$@"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then taken+=("$p"); fi
  done
  [ ${#taken[@]} -eq 0 ] && return 0
  echo "ports ${taken[*]} on 127.0.0.1 are taken by another process (ss -ltnp); run.sh needs them free" >&2
  exit 1
}

# wait_port blocks until a server answers HTTP on the port, or fails after a minute. Not ten
# seconds: HAProxy touches its whole cache before it listens (2,306 MiB with run.sh's defaults,
# more with more ROUNDS), and a first touch measured 19-22 us of CPU per 4 KiB page on this VM,
# so it listens only after some 12 s of a core (2026-12-02: run.sh with ROUNDS=4 and
# profile-kernel.sh TARGET=haproxy both failed with "did not come up", haproxy.log empty).
wait_port() {
  local i
  for i in $(seq 600); do
    curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0
    sleep 0.1
  done
  echo "server on 127.0.0.1:$1 did not come up; logs in $work" >&2
  return 1
}

# fill sends $objects distinct 1 KiB objects through the target on port $1. wrk keeps running
# for its whole -d after thread:stop(), so this watches the origin's counter and interrupts
# wrk once the fills have reached the origin (or after ten minutes).
fill() {
  local start wrk_pid i fills last=-1 still=0
  start=$(origin_requests)
  taskset -c 1 wrk -t1 -c"$conns" -d600s -s "$here/fill.lua" "http://127.0.0.1:$1" -- "$2" "$objects" ${full_mib:+down} >>"$work/wrk.log" 2>&1 &
  wrk_pid=$!
  for i in $(seq 6000); do
    # Each read of the counter counts itself; wrk abandons the last few requests in flight.
    fills=$(($(origin_requests) - start - i))
    [ "$fills" -ge "$objects" ] && break
    if [ "$fills" -eq "$last" ]; then still=$((still + 1)); else still=0; fi
    [ "$still" -ge 10 ] && [ "$fills" -ge $((objects - conns)) ] && break
    last=$fills
    sleep 0.1
  done
  sleep 0.5
  kill -INT "$wrk_pid" 2>/dev/null || true
  wait "$wrk_pid" || true
}

# narrow_targets HINT applies the SHOAL_BASELINE and TARGETS rules run.sh and bench-h2.sh
# share to the targets array: a baseline build adds shoal-base, and TARGETS keeps only the
# targets it names, each of which must be one of them (HINT says what an unknown one may need).
narrow_targets() {
  if [ -n "${SHOAL_BASELINE:-}" ]; then
    [ -x "$SHOAL_BASELINE" ] || { echo "SHOAL_BASELINE=$SHOAL_BASELINE: not an executable" >&2; exit 2; }
    targets+=(shoal-base)
  fi
  if [ -n "${TARGETS:-}" ]; then
    local all=" ${targets[*]} " t
    read -r -a targets <<<"$TARGETS"
    for t in "${targets[@]}"; do
      [[ $all == *" $t "* ]] || { echo "TARGETS: unknown target $t ($1)" >&2; exit 2; }
    done
  fi
}

# strace_per_response FILE N UNIT prints each system call of an `strace -c -f` summary (FILE)
# per UNIT ("request", "response") over N of them, with how many failed (EAGAIN: a read that
# found nothing). strace -c columns: % time, seconds, usecs/call, calls, errors (blank when
# none), syscall.
strace_per_response() {
  awk -v n="$2" -v unit="$3" '$1 ~ /^[0-9.]+$/ && NF >= 5 {
    errs = NF == 6 ? $5 : 0
    printf "%-16s %9d calls %6.2f per %s (%.2f failed)\n", $NF, $4, $4 / n, unit, errs / n }' "$1"
}
