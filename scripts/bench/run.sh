#!/usr/bin/env bash
# Shoal next to Varnish, nginx proxy_cache and HAProxy's cache, one origin (nginx), one run:
# warm hits at four sizes, pass-through, misses, and memory per cached 1 KiB object (wrk,
# closed loop: maximum req/s), then latency at a fixed rate (the loadtest library on vegeta,
# open loop, measured from each request's scheduled time: no coordinated omission).
# Servers are pinned to core 0 and the load to core 1; runs are interleaved across targets and
# repeated in rounds so drift hits every target alike. Prints the tables and their file's path.
# Usage: [SECONDS_PER_RUN=5] [ROUNDS=2] [OBJECTS=100000] [CONNECTIONS=64] [RATE=5000]
#        [FULL_CACHE_MIB=1024]
#        [LARGE_CLIENT=sinkload|wrk|"sinkload wrk"]
#        [SHOAL_POLICY=example] [SHOAL_BASELINE=bin/shoal-old] [TARGETS="shoal shoal-policy"] [WORKLOADS="hit-1k hit-16k"] [LATENCY=off] [LATENCY_WORKLOADS="hit-16k"]
#        scripts/bench/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
secs=${SECONDS_PER_RUN:-5}
rounds=${ROUNDS:-2}
objects=${OBJECTS:-100000}
conns=${CONNECTIONS:-64}
rate=${RATE:-5000}
# refproxy (scripts/bench/refproxy) is the stack's floor for pass: a bare fasthttp proxy with no
# cache, measured on pass-1k only, so the pass row shows what Shoal's own code costs.
# shoal-disk is Shoal on nginx's medium: its disk tier on the same tmpfs as nginx's proxy_cache
# and a ram_cache_cutoff below every hit body, so its hits are disk hits sent from tmpfs files
# as nginx's are (configs.sh write_shoal_disk). It runs the hit rows only; the memory-only
# shoal row stays as it was. SHOAL_DISK=off leaves it out.
targets=(varnish nginx haproxy shoal shoal-disk refproxy)
workloads=(hit-1k hit-16k hit-256k hit-1m pass-1k miss-1k)
# Fixed-rate latency: hit-1k is /1k.bin again and again, zipf-1k a Zipf(0.9) mix over the
# OBJECTS objects the memory phase filled (/fill/<target>/<rank>), the same URLs for everyone.
lat_workloads=(hit-1k zipf-1k)
# The closed-loop client of the hit-256k and hit-1m rows: wrk copies every body out of its
# sockets, and at these sizes its one core, not the target, set the pace, so these rows use
# sinkload (scripts/bench/sinkload: the same connections and seconds, bodies discarded in the
# kernel). LARGE_CLIENT=wrk brings wrk back; "sinkload wrk" runs both, each target's two runs
# back to back, the second client's rows labelled hit-256k@wrk.
read -r -a large_clients <<<"${LARGE_CLIENT:-sinkload}"
# LARGE_ROWS: the hit rows LARGE_CLIENT drives (default "hit-256k hit-1m"); e.g. with
# LARGE_ROWS="hit-16k" LARGE_CLIENT="sinkload wrk" one run shows what the client changes at 16 KiB.
read -r -a large_rows <<<"${LARGE_ROWS:-hit-256k hit-1m}"
for w in "${large_rows[@]}"; do
  case $w in
  hit-1k | hit-16k | hit-256k | hit-1m) ;;
  *) echo "LARGE_ROWS: $w is not a hit row" >&2; exit 2 ;;
  esac
done
is_large() { [[ " ${large_rows[*]} " == *" $1 "* ]]; }
for c in "${large_clients[@]}"; do
  case $c in
  sinkload | wrk) ;;
  *) echo "LARGE_CLIENT: unknown client $c (sinkload, wrk)" >&2; exit 2 ;;
  esac
done
# SHOAL_POLICY=example adds a fifth target, shoal-policy: a second Shoal process with the
# example's policy on its routes (configs.sh), interleaved with the others, so the cost of the
# rules is the ratio shoal-policy/shoal within one run (issue 17).
case ${SHOAL_DISK:-on} in
on) ;;
off) targets=("${targets[@]/shoal-disk/}") && read -r -a targets <<<"${targets[*]}" ;;
*) echo "SHOAL_DISK=$SHOAL_DISK: want on or off" >&2; exit 2 ;;
esac
case ${SHOAL_POLICY:-} in
'') ;;
example) targets+=(shoal-policy) ;;
*) echo "SHOAL_POLICY=$SHOAL_POLICY: want example or nothing" >&2; exit 2 ;;
esac
# SHOAL_BASELINE=<binary> adds shoal-base: that build of Shoal (for example the commit before a
# change, built with go build -o), configured as shoal, measured in the same run.
# TARGETS narrows the targets measured (e.g. "shoal shoal-policy": more rounds in the same time).
. "$here/measure.sh"
narrow_targets "shoal-policy needs SHOAL_POLICY=example, shoal-base SHOAL_BASELINE"
# WORKLOADS narrows the wrk table (e.g. "hit-1k hit-16k"); LATENCY=off leaves out the latency table.
if [ -n "${WORKLOADS:-}" ]; then read -r -a workloads <<<"$WORKLOADS"; fi
for w in "${workloads[@]}"; do
  case $w in
  hit-1k | hit-16k | hit-256k | hit-1m | pass-1k | miss-1k) ;;
  *) echo "WORKLOADS: unknown workload $w" >&2; exit 2 ;;
  esac
done
# LATENCY_WORKLOADS picks the latency table's workloads (e.g. "hit-16k": /16k.bin at RATE, the
# open-loop view of a row whose closed-loop p99 is measured on a saturated load core).
if [ -n "${LATENCY_WORKLOADS:-}" ]; then read -r -a lat_workloads <<<"$LATENCY_WORKLOADS"; fi
for w in "${lat_workloads[@]}"; do
  case $w in
  hit-1k | hit-16k | zipf-1k) ;;
  *) echo "LATENCY_WORKLOADS: unknown workload $w" >&2; exit 2 ;;
  esac
done
[ "${LATENCY:-on}" = off ] && lat_workloads=()
# FULL_CACHE_MIB=N gives every target the same cache budget of N MiB and fills more 1 KiB
# objects than any of them holds (OBJECTS defaults to N * 1200), newest ranks first, so the
# tables that follow run on full, evicting caches whose hot Zipf ranks are the resident ones.
full_mib=${FULL_CACHE_MIB:-}
if [ -n "$full_mib" ]; then
  [[ $full_mib =~ ^[1-9][0-9]*$ ]] || { echo "FULL_CACHE_MIB=$full_mib: want a size in MiB" >&2; exit 2; }
  objects=${OBJECTS:-$((full_mib * 1000))}
fi

missing=()
for pair in varnishd:varnish haproxy:haproxy nginx:nginx-light wrk:wrk curl:curl taskset:util-linux; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair##*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! go build -o bin/shoal ./cmd/shoal; then
  [ -x bin/shoal ] || exit 1
  echo "warning: go build failed; benchmarking the existing bin/shoal" >&2
fi

work=$(mktemp -d /tmp/shoal-bench.XXXXXX)
# nginx keeps bodies in files: a tmpfs keeps disk speed out of the comparison.
# shoal-disk's disk tier lives on the same file system, so the two read their hits from one medium.
if [ -d /dev/shm ]; then cache_dir=$(mktemp -d /dev/shm/shoal-bench-nginx.XXXXXX); else cache_dir=$work/cache; fi
if [ -d /dev/shm ]; then disk_dir=$(mktemp -d /dev/shm/shoal-bench-disk.XXXXXX); else disk_dir=$work/disk && mkdir -p "$disk_dir"; fi
latency=$work/latency
sinkload=$work/sinkload
if [[ " ${large_clients[*]} " == *" sinkload "* ]] && ! go build -o "$sinkload" ./scripts/bench/sinkload; then
  echo "scripts/bench/sinkload does not build (LARGE_CLIENT=wrk runs without it)" >&2
  exit 1
fi
refproxy=$work/refproxy
if [[ " ${targets[*]} " == *" refproxy "* ]] && ! go build -o "$refproxy" ./scripts/bench/refproxy; then
  echo "warning: scripts/bench/refproxy does not build; no refproxy row" >&2
  targets=("${targets[@]/refproxy/}")
  read -r -a targets <<<"${targets[*]}"
fi
if [ ${#lat_workloads[@]} -gt 0 ] && ! go build -o "$latency" ./scripts/bench/latency; then
  echo "warning: scripts/bench/latency does not build; no latency table" >&2
  lat_workloads=()
fi
results="bench-results/bench-$(date -u +%Y%m%dT%H%M%SZ).txt"
raw=$work/raw.tsv
mkdir -p bench-results
# Room for the fill plus every miss run (at most ~60k objects/s), ~3 KiB each, so no target evicts.
objects_total=$((objects + rounds * secs * 60000))
mem_mib=$((objects_total * 3 / 1024 + 256))
[ -n "$full_mib" ] && mem_mib=$full_mib

cleanup() {
  local status=$? pid
  for pid in ${pid_origin:-} ${pid_varnish:-} ${pid_nginx:-} ${pid_haproxy:-} ${pid_shoal:-} ${pid_shoal_policy:-} ${pid_shoal_base:-} ${pid_refproxy:-} ${pid_shoal_disk:-}; do
    kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$cache_dir" "$disk_dir"
  [ -n "${SHOAL_GODEBUG:-}" ] && cp "$work/shoal.err" "${results%.txt}.shoal.err"
  if [ "$status" -eq 0 ]; then rm -rf "$work"; else echo "failed; configs and logs kept in $work" >&2; fi
}
trap cleanup EXIT

. "$here/configs.sh"
write_origin
write_varnish
write_nginx
write_haproxy
write_shoal
write_shoal_policy
write_shoal_disk
[ -n "${SHOAL_BASELINE:-}" ] && write_shoal_base

# A port another process already listens on would be measured as that process (2026-12-02: a
# test server on 18300 answered every fill with a 404 for ten minutes): refuse to start.
# Run in a network namespace of your own (unshare -n, then ip link set lo up) to share none.
ports_in_use "$port_origin" "$port_varnish" "$port_nginx" "$port_haproxy" "$port_shoal" "$port_shoal_admin" \
  "$port_varnish_admin" "$port_haproxy_cli" "$port_shoal_policy" "$port_shoal_policy_admin" "$port_shoal_base" \
  "$port_shoal_base_admin" "$port_refproxy" "$port_shoal_disk" "$port_shoal_disk_admin"

taskset -c 0 nginx -p "$work" -c "$work/origin.conf" &
pid_origin=$!
taskset -c 0 varnishd -F -j none -n "$work/varnish" -a "127.0.0.1:$port_varnish" \
  -T "127.0.0.1:$port_varnish_admin" -f "$work/varnish.vcl" -s "malloc,${mem_mib}M" >"$work/varnish.log" 2>&1 &
pid_varnish=$!
taskset -c 0 nginx -p "$work" -c "$work/nginx.conf" &
pid_nginx=$!
taskset -c 0 haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
pid_haproxy=$!
# SHOAL_GODEBUG (e.g. gctrace=1) is GODEBUG for the shoal process alone; its stderr, where the
# collector's lines go, is kept as bench-results/<run>.shoal.err.
env ${SHOAL_GODEBUG:+GODEBUG=$SHOAL_GODEBUG} taskset -c 0 bin/shoal run -c "$work/shoal.yaml" >/dev/null 2>"$work/shoal.err" &
pid_shoal=$!
ports=("$port_origin" "$port_varnish" "$port_nginx" "$port_haproxy" "$port_shoal")
if [[ " ${targets[*]} " == *" shoal-base "* ]]; then
  taskset -c 0 "$SHOAL_BASELINE" run -c "$work/shoal-base.yaml" >/dev/null 2>"$work/shoal-base.err" &
  pid_shoal_base=$!
  ports+=("$port_shoal_base")
fi
if [[ " ${targets[*]} " == *" shoal-policy "* ]]; then
  taskset -c 0 bin/shoal run -c "$work/shoal-policy.yaml" >/dev/null 2>"$work/shoal-policy.err" &
  pid_shoal_policy=$!
  ports+=("$port_shoal_policy")
fi
if [[ " ${targets[*]} " == *" shoal-disk "* ]]; then
  taskset -c 0 bin/shoal run -c "$work/shoal-disk.yaml" >/dev/null 2>"$work/shoal-disk.err" &
  pid_shoal_disk=$!
  ports+=("$port_shoal_disk")
fi
if [[ " ${targets[*]} " == *" refproxy "* ]]; then
  taskset -c 0 "$refproxy" -listen "127.0.0.1:$port_refproxy" -origin "127.0.0.1:$port_origin" >/dev/null 2>"$work/refproxy.err" &
  pid_refproxy=$!
  ports+=("$port_refproxy")
fi
for p in "${ports[@]}"; do wait_port "$p"; done
# The disk tier loads its (empty) index in the background; a fill before it is ready would
# be a miss it does not keep.
[ -n "${pid_shoal_disk:-}" ] && wait_disk_ready "$port_shoal_disk_admin"

port_of() { local v="port_${1//-/_}"; echo "${!v}"; }
path_of() {
  case ${1%@*} in
  hit-1k) echo /1k.bin ;; hit-16k) echo /16k.bin ;; hit-256k) echo /256k.bin ;; hit-1m) echo /1m.bin ;;
  pass-1k) echo /pass/1k.bin ;; miss-1k) echo / ;;
  esac
}
# size_of is a hit workload's body in bytes: what sinkload expects of every response.
size_of() {
  case ${1%@*} in hit-1k) echo 1024 ;; hit-16k) echo 16384 ;; hit-256k) echo 262144 ;; hit-1m) echo 1048576 ;; esac
}

# Memory first, on fresh processes: a short hit run allocates connection buffers, then the
# RSS before, the fill of $objects distinct 1 KiB objects, a pause for asynchronous stores,
# and the RSS after. Targets fill one at a time while the others idle; refproxy keeps nothing.
for t in "${targets[@]}"; do
  [ "$t" = refproxy ] || [ "$t" = shoal-disk ] && continue
  port=$(port_of "$t")
  curl -s -o /dev/null "http://127.0.0.1:$port/1k.bin"
  secs=1 run_wrk "http://127.0.0.1:$port/1k.bin" >/dev/null
  sleep 1
  rss0=$(rss_kib "$t") held0=$(objects_held "$t") extra0=$(extra "$t")
  fill_start=$SECONDS
  fill "$port" "$t"
  [ -n "$full_mib" ] && echo "$t: filled $objects objects in $((SECONDS - fill_start)) s" >&2
  sleep 3
  [ -n "$full_mib" ] && wait_evicted "$t"
  rss1=$(rss_kib "$t") held1=$(objects_held "$t") extra1=$(extra "$t")
  printf 'mem\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$rss0" "$rss1" "$held0" "$held1" "$extra0" "$extra1" >>"$raw"
  if [ -n "$full_mib" ]; then
    row=$(printf 'full\tfilled\t%s\t%s\t%s\t%s\t%s\t%s' "$t" "$objects" "$held1" "$(cache_state "$t")" "$rss1" "$extra1")
    printf '%s\n' "$row" >>"$raw"
    awk -v mib="$full_mib" -v hdr="$([ "$t" = "${targets[0]}" ] && echo 1 || echo 0)" -f "$here/full.awk" <<<"$row"
  fi
done

# Warm the hit objects twice through every target; the origin counter then shows whether
# any hit run reached the origin.
for t in "${targets[@]}"; do
  for w in "${workloads[@]}"; do
    [[ $w == hit-* ]] || continue
    for _ in 1 2; do curl -s -o /dev/null "http://127.0.0.1:$(port_of "$t")$(path_of "$w")"; done
    # One more request must be a disk hit on shoal-disk: not a memory hit, not a miss.
    [ "$t" = shoal-disk ] && check_disk_hit "$t" "$(path_of "$w")"
  done
done

for round in $(seq "$rounds"); do
  for w in "${workloads[@]}"; do
    # Rotate the target order each round so no target always runs first or last.
    for i in "${!targets[@]}"; do
      t=${targets[$(((i + round - 1) % ${#targets[@]}))]}
      [ "$t" = refproxy ] && [ "$w" != pass-1k ] && continue
      [ "$t" = shoal-disk ] && [[ $w != hit-* ]] && continue
      url="http://127.0.0.1:$(port_of "$t")$(path_of "$w")"
      # The large hit rows run once per LARGE_CLIENT, each target's runs back to back, the
      # order of the clients reversed every other round; the first client's rows keep the
      # plain workload name.
      clients=(wrk)
      is_large "$w" && clients=("${large_clients[@]}")
      ((round % 2 == 0)) && [ ${#clients[@]} -gt 1 ] && clients=("${clients[1]}" "${clients[0]}")
      for client in "${clients[@]}"; do
        label=$w
        [ ${#large_clients[@]} -gt 1 ] && [ "$client" != "${large_clients[0]}" ] && is_large "$w" && label=$w@$client
        before=$(origin_requests) cpu0=$(cpu_ticks "$t") load0=$(core_times 1) csw0=$(ctx_switches "$t") disk0=$(disk_hits "$t")
        if [ "$w" = miss-1k ]; then
          m=$(run_wrk "$url" "$here/miss.lua" "$t-$round-$RANDOM")
        elif [ "$client" = sinkload ]; then
          m=$(run_sink "$url" "$(size_of "$w")")
        else
          m=$(run_wrk "$url")
        fi
        after=$(origin_requests) cpu1=$(cpu_ticks "$t") load1=$(core_times 1) csw1=$(ctx_switches "$t") disk1=$(disk_hits "$t")
        # The target's CPU ticks over the run, and how busy the load generator's core was in
        # per cent: near 100, the client was the bottleneck and req/s says little about the
        # target. Last, which client ran and its own CPU time (microseconds).
        loadpct=$(awk -v a="$load0" -v b="$load1" 'BEGIN {split(a, x, " "); split(b, y, " ");
          d = (y[1] - x[1]) + (y[2] - x[2]); printf "%.0f", (d > 0 ? 100 * (y[1] - x[1]) / d : 0)}')
        clcpu=${m##* } m=${m% *}
        # Last, the disk tier's hits over the run (shoal-disk only, "-" for the others).
        disk=-
        [ "$disk0" != - ] && disk=$((disk1 - disk0))
        printf 'run\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$t" "$round" "${m// /	}" "$((after - before - 1))" \
          "$((cpu1 - cpu0))" "$loadpct" "$((${csw1% *} - ${csw0% *}))" "$((${csw1#* } - ${csw0#* }))" "$client" "$clcpu" "$disk" >>"$raw"
      done
    done
  done
  for w in "${lat_workloads[@]}"; do
    for i in "${!targets[@]}"; do
      t=${targets[$(((i + round - 1) % ${#targets[@]}))]}
      [ "$t" = refproxy ] || [ "$t" = shoal-disk ] && continue
      before=$(origin_requests)
      m=$(run_latency "$t" "$w" "$round")
      after=$(origin_requests)
      printf 'lat\t%s\t%s\t%s\t%s\t%s\n' "$w" "$t" "$round" "$m" "$((after - before - 1))" >>"$raw"
    done
  done
done

# The caches again after every run: still full, and what each process holds now.
if [ -n "$full_mib" ]; then
  for t in "${targets[@]}"; do
    [ "$t" = refproxy ] || [ "$t" = shoal-disk ] && continue
    printf 'full\tend\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$objects" "$(objects_held "$t")" "$(cache_state "$t")" \
      "$(rss_kib "$t")" "$(extra "$t")" >>"$raw"
  done
fi

{
  echo "Shoal edge benchmark, $(date -u +%FT%TZ), $(nproc) cores: servers on core 0, load (wrk, latency) on core 1"
  echo "wrk -t1 -c$conns -d${secs}s --latency, $rounds rounds interleaved; memory fill: $objects objects of 1 KiB"
  large_run=no
  for w in "${workloads[@]}"; do is_large "$w" && large_run=yes; done
  if [ "$large_run" = yes ]; then
    echo "${large_rows[*]}: LARGE_CLIENT=\"${large_clients[*]}\" (sinkload: scripts/bench/sinkload -c$conns -d${secs}s," \
      "bodies discarded in the kernel, not copied; the rows of a second client are labelled @client)"
  fi
  if [[ " ${targets[*]} " == *" shoal-disk "* ]]; then
    echo "shoal: memory tier only; shoal-disk: cache.disk on $(df --output=fstype "$disk_dir" | tail -1) ($(dirname "$disk_dir"), as nginx's" \
      "proxy_cache), ram_cache_cutoff 512B, hit rows only: every hit a disk hit (checked per run)"
  fi
  echo "latency: scripts/bench/latency (loadtest on vegeta $(go list -m -f '{{.Version}}' github.com/tsenart/vegeta/v12 2>/dev/null)):" \
    "$rate req/s open loop for ${secs}s, keep-alive, at most $conns in flight, measured from the schedule"
  echo "versions: $(varnishd -V 2>&1 | head -1 | cut -d' ' -f1-2 | tr -d '()'); $(haproxy -v | head -1 | cut -d' ' -f1-3);" \
    "$(nginx -v 2>&1 | cut -d' ' -f3); shoal $(git describe --always --dirty 2>/dev/null || echo unknown); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
  echo
  [ -n "$full_mib" ] && echo "full cache: every target's budget is $full_mib MiB; the tables below ran on caches filled past it"
  awk -v rate="$rate" -v full="${full_mib:-0}" -f "$here/report.awk" "$raw"
  [ -n "$full_mib" ] && { echo; awk -v mib="$full_mib" -v hdr=1 -f "$here/full.awk" "$raw"; }
  echo
  echo "raw rows (run: workload target round rps p50_ms p99_ms requests errors origin_requests cpu_ticks load_core_busy_pct"
  echo "               voluntary_switches involuntary_switches client client_cpu_us disk_hits;"
  echo "          lat: workload target round p50_ms p99_ms p999_ms success requests sent_per_s errors origin_requests;"
  echo "          mem: target rss_before_kib rss_after_kib held_before held_after extra_before extra_after;
          extra: nginx tmpfs bytes, blocks taken by haproxy cache entries;
          full: when target filled held used_bytes evicted rss_kib extra)"
  cat "$raw"
} >"$results"
cat "$results"
echo "results: $results"
