#!/usr/bin/env bash
# Compare Shoal's gslb with gdnsd on loopback: same zone, same answers, same load, one run.
# Not run by tests. Needs root for apt-get when dnsperf or gdnsd are missing.
# Usage: gslb/bench/dnsperf.sh [seconds]   (from anywhere in the checkout)
# SHOAL_BASELINE=/path/to/gslbserve also measures that build (e.g. one from before a change)
# in the same run, on port 5302; several paths, space-separated, are "baseline", "baseline2"...
# on ports 5302, 5303... (a path may be a script that adds flags: exec gslbserve -blocking "$@";
# a git revision of this checkout that is not a path, e.g. 6c7490a, builds its gslbserve). ROUNDS=N repeats the qps table N times (the machine's noise
# shows as the spread). NICE=-10 runs servers and load generators at that priority (needs root),
# which keeps other work on a shared machine from dominating the tail figures. RT=1 runs the
# tail part (only) with every server thread under SCHED_FIFO priority 10 and dnsperf at nice -20
# (needs root; at 10,000 qps each server uses a fraction of its core), so that on a shared machine the tail is the
# servers' own rather than the other work's. WORKLOADS="A many" narrows the qps table to those
# workloads (WORKLOADS= leaves only the tail part), TAIL_ROUNDS=N repeats the tail part N times
# (default ROUNDS) and ends with each server's median and range over the rounds, for dnsperf
# and for ./dnslat (the same load, each reply's latency ending at the kernel's arrival stamp, so
# that the client's own wake-up is left out); TAIL_KEEP=dir keeps every reply's latency of each
# dnsperf tail round in dir/<server>.<round>. WINDOW=N keeps N queries outstanding in dnsflood's
# rows (default 200); CPU_WEIGHT=N gives each server's cgroup N times the default CPU weight (below).
#
# Workloads, each against every server in turn:
#   A       one name, type A, from one resolver address, no EDNS
#   ECS     the same with EDNS and one client subnet (10.x.y.0/24, in the same region)
#   many    10,000 client subnets in ECS from 1,000 resolver addresses (127.1.x.y), so no reply
#           is ever a repeat of a recent one
#   10k     dnsperf at 10,000 queries per second (A, no EDNS): p50, p99, p99.9 of the latency
# The qps rows are loaded by ./dnsflood (batches of up to 64 queries per sendmmsg, 200
# outstanding); GEN=dnsperf loads A and ECS with dnsperf (-c 4) as before. On loopback the
# sender pays for delivering each datagram into its receiver's socket, so the load generator
# spends about as much CPU per query as the server: dnsperf filled its core at 5.5-6 µs a query
# while the servers used 87-89% of theirs, and dnsflood, at 4.4-4.6 µs, still fills it (servers
# 77-93%). So max qps on two cores is the pair's rate, not the server's alone; each cell also
# shows the server's CPU per query, and the "cost" ratio compares those.
# Each qps cell is "qps srv/gen µs srv/gen %": the rate, server and load generator CPU per
# answered query (server from /proc/PID/stat, load generator from bash's time) and the share of
# its core each used. The row's limit is the one whose core is full.
# Servers are pinned to CPU 0 and the load generators to CPU 1 when there are two cores.
#
# CPU_QUOTA=N (percent of one core, default 50; 0 turns it off) runs each server in a cpu
# cgroup of its own limited to N% of a core (CFS bandwidth, N% of every CPU_PERIOD ms, default
# 20) during the qps table, the same limit for every server; the tail part runs without it.
# Without a limit the load generator's core was 99-100% busy in every qps cell while the
# server's was not, so max qps was the pair's rate, not the server's. With half a core for the
# server and a whole one for the load generator, the server is the limit (its share sits at the
# quota, the generator's well below 100%), and its rate is N% / (its CPU per query): the qps
# ratio then compares the servers' work per query, measured as throughput. Needs root and a
# writable cpu cgroup (v1 under /sys/fs/cgroup/cpu, or v2 with the cpu controller).
# RT_QPS=1 enforces the same limit with the cgroup's RT bandwidth instead (cpu.rt_runtime_us,
# cgroup v1 with RT group scheduling) and runs each server under SCHED_FIFO during its own qps
# cells, dnsflood too: other work on the machine then cannot take either core from them, only
# the limit does (see cg_rt).
set -euo pipefail

SECONDS_PER_RUN=${1:-10}
GEN=${GEN:-dnsflood}
SHOAL_PORT=5300
GDNSD_PORT=5301
BASELINE_PORT=5302
HERE=$(cd "$(dirname "$0")" && pwd)
MODROOT=$(cd "$HERE/../.." && pwd)
WORK=$(mktemp -d)
PIDS=()
CGROUPS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -f "$WORK/gdnsd/run/gdnsd.pid" ] && kill "$(cat "$WORK/gdnsd/run/gdnsd.pid")" 2>/dev/null || true
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	for c in "${CGROUPS[@]}"; do
		for _ in 1 2 3 4 5; do rmdir "$c" 2>/dev/null && break; sleep 0.2; done
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

# The servers' cpu cgroups (CPU_QUOTA): one per server, all limited alike.
CPU_QUOTA=${CPU_QUOTA:-50}
case $CPU_QUOTA in 0 | [1-9] | [1-9][0-9] | 100) ;; *) echo "CPU_QUOTA: 0 to 100" >&2; exit 1 ;; esac
case ${CPU_WEIGHT:-1} in [1-9] | [1-9][0-9]) ;; *) echo "CPU_WEIGHT: 1 to 99" >&2; exit 1 ;; esac
CG_ROOT="" CG_V=""
if [ -n "${RT_QPS:-}" ] && [ "$CPU_QUOTA" = 0 ]; then echo "RT_QPS needs CPU_QUOTA" >&2; exit 1; fi
if [ "$CPU_QUOTA" != 0 ]; then
	if [ -n "${RT_QPS:-}" ] && ! [ -w /sys/fs/cgroup/cpu/cpu.rt_runtime_us ]; then
		echo "RT_QPS=1 needs root and cgroup v1 with RT group scheduling (cpu.rt_runtime_us)" >&2
		exit 1
	fi
	if [ -w /sys/fs/cgroup/cpu/cgroup.procs ] && [ -e /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then
		CG_ROOT=/sys/fs/cgroup/cpu CG_V=1
	elif grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null && [ -w /sys/fs/cgroup/cgroup.procs ]; then
		CG_ROOT=/sys/fs/cgroup CG_V=2
		grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control || echo +cpu >/sys/fs/cgroup/cgroup.subtree_control
	else
		echo "CPU_QUOTA=$CPU_QUOTA needs root and a writable cpu cgroup; CPU_QUOTA=0 runs without" >&2
		exit 1
	fi
fi
# The limit's period: CPU_PERIOD ms (default 20), of which a server may use percent. It was
# 100/percent ms with 1 ms of CPU in each (2 ms at 50%), so that a throttled server held back
# little of the load generator's window; but the kernel notices that a group has used its quota
# only when it accounts the group's time: at a tick (4 ms at this kernel's HZ=250) or when one
# of its threads sleeps or wakes. Shoal's one reader, busy for the whole of its share, was
# noticed at ticks alone: under a limit of 1 ms every 2 ms (RT bandwidth, which accounts as
# CFS bandwidth does; `perf sched timehist` of core 0 under dnsflood's many-subnet load) it ran
# 3.1-3.3 ms, was throttled 4.7-4.9 ms to pay the overrun back, and the quota of every period
# that passed while it ran unaccounted was lost: 41-48% of the core where the limit was 50%.
# gdnsd's two threads, each sleeping some 200 times a second, were accounted at every sleep
# and got 48-50%. So the qps ratio under the limit compared how often each server
# sleeps as much as what it spends per query. With periods of several ticks the overrun is a
# small part of a period: at 20 ms and at 100 ms both servers got 49.6-51% of the core.
CPU_PERIOD=${CPU_PERIOD:-20}
case $CPU_PERIOD in [1-9] | [1-9][0-9] | [1-9][0-9][0-9]) ;; *) echo "CPU_PERIOD: 1 to 999 (ms)" >&2; exit 1 ;; esac
# cg_limit dir percent: at most percent of one core (0: no limit) in every CPU_PERIOD ms.
cg_limit() {
	local period=$((CPU_PERIOD * 1000)) quota=$((CPU_PERIOD * 10 * $2))
	if [ "$CG_V" = 1 ]; then
		echo "$period" >"$1/cpu.cfs_period_us"
		if [ "$2" = 0 ]; then echo -1; else echo "$quota"; fi >"$1/cpu.cfs_quota_us"
	else
		if [ "$2" = 0 ]; then echo "max $period"; else echo "$quota $period"; fi >"$1/cpu.max"
	fi
}
# cg_rt dir percent pid: RT_QPS's limit. With percent, the server pid runs SCHED_FIFO (every
# thread; threads it starts later inherit it) in its cgroup, which may run RT tasks for percent
# of every CPU_PERIOD ms; with 0 it is back under SCHED_OTHER and its group gets no RT time.
# Only the server being measured has RT time: the kernel refuses RT bandwidth beyond 95% of a
# CPU in all groups together (sched_rt_runtime_us), so two servers at 50% cannot hold it at once.
# Under CFS bandwidth at load average 7-14 (other work on both cores), the servers got 23-38% of
# core 0 where the limit was 50%; under SCHED_FIFO with RT bandwidth, 48-51% in the same hour.
cg_rt() {
	if [ "$2" = 0 ]; then
		chrt -a -o -p 0 "$3" >/dev/null
		echo 0 >"$1/cpu.rt_runtime_us"
	else
		echo $((CPU_PERIOD * 1000)) >"$1/cpu.rt_period_us"
		echo $((CPU_PERIOD * 10 * $2)) >"$1/cpu.rt_runtime_us"
		chrt -a -f -p 10 "$3" >/dev/null
	fi
}
# cg_weight dir: CPU_WEIGHT times the default CPU weight of a cgroup (v1 cpu.shares 1024, v2
# cpu.weight 100; default 1, the kernel's default), so that other work on the servers' core
# takes less of a server's quota: at the default weight a server competes with every other
# runnable task there as one of them, and at load average 12 (other helpers' builds and tests)
# servers got 4-20% of the core in one run, shares that moved from cell to cell and decided the
# qps ratio (0.88 to 2.03 in three rounds of one run). Every server gets the same weight. At
# load average 26-34 CPU_WEIGHT=10 was not enough (servers 10-14% of the core, the load
# generator starved as much): there no qps figure compares the servers.
cg_weight() {
	[ "${CPU_WEIGHT:-1}" = 1 ] && return
	if [ "$CG_V" = 1 ]; then echo $((1024 * CPU_WEIGHT)) >"$1/cpu.shares"; else echo $((100 * CPU_WEIGHT)) >"$1/cpu.weight"; fi
}
# serve name command...: starts a server on the servers' core, in a cgroup of its own with
# CPU_QUOTA (the process enters it before exec, so every thread it makes is inside).
declare -A CG_OF=()
serve() {
	local name=$1
	shift
	if [ -z "$CG_ROOT" ]; then
		"${PIN_SERVER[@]}" "$@" &
	else
		local dir="$CG_ROOT/shoal-bench-$$-$name"
		mkdir "$dir"
		CGROUPS+=("$dir")
		CG_OF[$name]=$dir
		if [ -z "${RT_QPS:-}" ]; then
			cg_limit "$dir" "$CPU_QUOTA"
			cg_weight "$dir"
		fi
		"${PIN_SERVER[@]}" bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$dir" "$@" &
	fi
}
# cg_throttled name: CFS periods in which the server's cgroup was throttled so far.
cg_throttled() {
	local dir=${CG_OF[$1]:-}
	[ -n "$dir" ] || { echo 0; return; }
	awk '$1 == "nr_throttled" {print $2}' "$dir/cpu.stat"
}

need() {
	command -v "$1" >/dev/null 2>&1 && return
	echo "installing $2" >&2
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}
need dnsperf dnsperf
need gdnsd gdnsd

PIN_SERVER=() PIN_CLIENT=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	PIN_SERVER=(taskset -c 0) PIN_CLIENT=(taskset -c 1)
fi
if [ -n "${NICE:-}" ]; then
	PIN_SERVER=(nice -n "$NICE" "${PIN_SERVER[@]}") PIN_CLIENT=(nice -n "$NICE" "${PIN_CLIENT[@]}")
fi

# gdnsd keeps its default udp_threads (2): pinned to one core with udp_threads 1 it answered 44k
# to 76k qps against 131k to 146k for the default, in the same run; the Debian build has no
# other knob for UDP throughput (udp_recv_width is fixed at 16 since 3.0).
# The same data for both: www has four A records, all returned; clients in 127/8 are in region
# "local" and clients in 10/8 in region "ten", which has no edges of its own (gdnsd: a geoip map
# from nets, the same four addresses in both datacenters).
ADDRS=(192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4)
EDGES=""
for i in "${!ADDRS[@]}"; do EDGES+="${EDGES:+,}e$i:local:${ADDRS[$i]}"; done
REGIONS="local:127.0.0.0/8,ten:10.0.0.0/8"

(cd "$MODROOT" && go build ${GOFLAGS_EXTRA:-} -o "$WORK/gslbserve" ./gslb/bench/gslbserve &&
	go build -o "$WORK/dnsflood" ./gslb/bench/dnsflood && go build -o "$WORK/dnslat" ./gslb/bench/dnslat)
serve shoal "$WORK/gslbserve" -listen "127.0.0.1:$SHOAL_PORT" -answers ${#ADDRS[@]} \
	-regions "$REGIONS" -edges "$EDGES" 2>"$WORK/gslbserve.log"
PIDS+=($!)
declare -A PID_OF=([$SHOAL_PORT]=$!)
BASELINES=()
# rev_build rev: builds gslbserve as it was at git revision rev of this checkout, prints its path.
rev_build() {
	local dir="$WORK/rev-$1"
	mkdir -p "$dir"
	git -C "$MODROOT" archive "$1" | tar -x -C "$dir"
	(cd "$dir" && go build -o "$dir/gslbserve" ./gslb/bench/gslbserve) >&2
	echo "$dir/gslbserve"
}
for b in ${SHOAL_BASELINE:-}; do
	if [ ! -e "$b" ] && git -C "$MODROOT" rev-parse -q --verify "$b^{commit}" >/dev/null; then
		b=$(rev_build "$b")
	fi
	port=$((BASELINE_PORT + ${#BASELINES[@]}))
	name=baseline
	[ ${#BASELINES[@]} -gt 0 ] && name=baseline$((${#BASELINES[@]} + 1))
	serve "$name" "$b" -listen "127.0.0.1:$port" -answers ${#ADDRS[@]} \
		-regions "$REGIONS" -edges "$EDGES" 2>"$WORK/$name.log"
	PIDS+=($!)
	PID_OF[$port]=$!
	BASELINES+=("$name:$port")
	echo "$name: $b"
done

mkdir -p "$WORK/gdnsd/zones" "$WORK/gdnsd/run" "$WORK/gdnsd/state"
DCMAP=""
for i in "${!ADDRS[@]}"; do DCMAP+="e$i => ${ADDRS[$i]}, "; done
cat >"$WORK/gdnsd/config" <<CONF
options => {
  listen => [ 127.0.0.1 ]
  dns_port => $GDNSD_PORT
  run_dir => $WORK/gdnsd/run
  state_dir => $WORK/gdnsd/state
}
plugins => {
  geoip => {
    maps => {
      regions => {
        datacenters => [ local, ten ]
        nets => { 127.0.0.0/8 => [ local, ten ], 10.0.0.0/8 => [ ten, local ] }
      }
    }
    resources => {
      www => {
        map => regions
        dcmap => { local => { $DCMAP }, ten => { $DCMAP } }
      }
    }
  }
}
CONF
{
	echo '$TTL 20'
	echo '@ SOA ns1 hostmaster 1 3600 600 86400 60'
	echo '@ NS ns1'
	echo "ns1 A ${ADDRS[0]}"
	echo "www 20 DYNA geoip!www"
} >"$WORK/gdnsd/zones/cdn.example.com"
serve gdnsd gdnsd -c "$WORK/gdnsd" -D start >"$WORK/gdnsd.log" 2>&1
PIDS+=($!)
PID_OF[$GDNSD_PORT]=$!

echo "www.cdn.example.com A" >"$WORK/queries"
wait_up() {
	for _ in $(seq 50); do
		dnsperf -s 127.0.0.1 -p "$1" -d "$WORK/queries" -n 1 2>/dev/null | grep -q 'Queries completed: *1 ' && return
		sleep 0.2
	done
	echo "server on port $1 did not answer; logs:" >&2
	cat "$WORK"/*.log >&2
	exit 1
}
ECS_OPT="8:00011800$(printf '%02x%02x%02x' 10 1 2)" # family 1, source /24, scope 0, 10.1.2
# A load generator that has not finished well after its time limit is ended (timeout), so a
# stuck one cannot hold the machine (and the benchmark lock) for good.
perf() { timeout -k 5 $((SECONDS_PER_RUN + 20)) "${PIN_CLIENT[@]}" dnsperf -s 127.0.0.1 -p "$1" -d "$WORK/queries" -l "$SECONDS_PER_RUN" "${@:2}"; }
qps_of() { awk '/Queries per second/ {printf "%.0f", $4}'; }
# cpu_ticks pid: user+system clock ticks the process (every thread) has used so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# measure workload port: prints "qps srv gen su gu": the rate, server and load generator CPU
# µs per answered query, and the share of its core each used (%). Server CPU is read from
# /proc/PID/stat (every thread), the load generator's from bash's time; CPU per query is what
# the load on a shared machine disturbs least.
measure() {
	local before after qps client
	before=$(cpu_ticks "${PID_OF[$2]}")
	client=$( { TIMEFORMAT='%U %S'; time measure_qps "$@" >"$WORK/qps" 2>/dev/null; } 2>&1)
	after=$(cpu_ticks "${PID_OF[$2]}")
	qps=$(cat "$WORK/qps")
	awk -v q="${qps:-0}" -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v s="$SECONDS_PER_RUN" \
		-v c="$client" 'BEGIN { split(c, u, " "); d = (q > 0 ? q * s : 1); sc = t / hz; gc = u[1] + u[2]
			printf "%d %.2f %.2f %d %d", q, sc * 1e6 / d, gc * 1e6 / d, 100 * sc / s, 100 * gc / s }'
}
# flood port args...: dnsflood on the load generator's core, WINDOW queries outstanding
# (default 200), batches of up to 64 queries per sendmmsg.
# Under RT_QPS dnsflood runs SCHED_FIFO too (one P, so no thread of it spins waiting for
# another, unlike dnsperf, below), so that other work on its core does not pace the server.
FLOOD_RT=()
[ -n "${RT_QPS:-}" ] && FLOOD_RT=(chrt -f 5)
flood() { timeout -k 5 $((SECONDS_PER_RUN + 20)) "${PIN_CLIENT[@]}" "${FLOOD_RT[@]}" "$WORK/dnsflood" -s 127.0.0.1 -p "$1" -l "$SECONDS_PER_RUN" -q "${WINDOW:-200}" "${@:2}" | qps_of; }
measure_qps() { # workload port
	case $1:$GEN in
	A:dnsperf) perf "$2" -c 4 -Q 1000000 | qps_of ;;
	ECS:dnsperf) perf "$2" -c 4 -Q 1000000 -E "$ECS_OPT" | qps_of ;;
	A:*) flood "$2" -edns=false -subnets 0 -sources 1 ;;
	ECS:*) flood "$2" -subnets 1 -sources 1 ;;
	many:*) flood "$2" -subnets 10000 -sources 1000 ;;
	esac
}
# tail_latency name port: p50 p99 p99.9 in ms at 10,000 qps, from dnsperf's per-query report; the
# same three go to $WORK/tail for the summary, and with TAIL_KEEP=dir every reply's latency (s,
# sorted) to dir/name.round.
tail_latency() {
	local keep=/dev/null
	[ -n "${TAIL_KEEP:-}" ] && keep=$TAIL_KEEP/$1.$r
	perf "$2" -c 4 -Q 10000 -v 2>/dev/null | awk '$1 == ">" {print $NF}' | sort -g | tee "$keep" |
		awk -v name="$1" -v sum="$WORK/tail" '{v[NR] = $1} END {
			if (NR == 0) { print "no replies"; exit }
			p50 = v[int(NR*0.5)+1]*1000; p99 = v[int(NR*0.99)+1]*1000; p999 = v[int(NR*0.999)+1]*1000
			printf "%s %.3f %.3f %.3f\n", name, p50, p99, p999 >>sum
			printf "%d replies, p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms\n", NR, p50, p99, p999 }'
}
LAT_RT=()
# kernel_latency name port: the same load from ./dnslat, each reply's latency ending when the
# kernel stamped its arrival (SO_TIMESTAMPNS) rather than when the client read it: dnsperf's
# figure includes its own receiving thread's wake-up on a core that other work shares, which is
# the same whichever server answers; this one is the server's and loopback's. To $WORK/tailk.
kernel_latency() {
	local out
	out=$(timeout -k 5 $((SECONDS_PER_RUN + 20)) "${PIN_CLIENT[@]}" "${LAT_RT[@]}" "$WORK/dnslat" -s 127.0.0.1 -p "$2" \
		-Q 10000 -l "$SECONDS_PER_RUN" 2>&1) || true
	echo "$out"
	awk -v name="$1" '{ for (i = 1; i < NF; i++) if ($i ~ /^p(50|99|99\.9)$/) v[$i] = $(i + 1)
		if ("p99.9" in v) print name, v["p50"], v["p99"], v["p99.9"] }' <<<"${out//,/}" >>"$WORK/tailk"
}
# tail_summary file label: per server, the median of each figure over the tail rounds and its
# range: one round's p99 moves by 2-3x on a shared machine, so only many rounds compare two servers.
tail_summary() {
	[ -s "$1" ] || return 0
	echo "$2"
	for s in "${SERVERS[@]}"; do
		awk -v name="${s%%:*}" '$1 == name {n++; a[n] = $2; b[n] = $3; c[n] = $4}
			function med(x, n,   i, j, t) {
				for (i = 2; i <= n; i++) for (j = i; j > 1 && x[j-1] > x[j]; j--) { t = x[j]; x[j] = x[j-1]; x[j-1] = t }
				return sprintf("%.3f (%.3f-%.3f)", n % 2 ? x[(n+1)/2] : (x[n/2] + x[n/2+1]) / 2, x[1], x[n]) }
			END { if (n) printf "%-8s %d rounds, median (range) ms: p50 %s, p99 %s, p99.9 %s\n", name, n, med(a, n), med(b, n), med(c, n) }' "$1"
	done
}

SERVERS=("shoal:$SHOAL_PORT" "gdnsd:$GDNSD_PORT")
SERVERS+=("${BASELINES[@]}")
for s in "${SERVERS[@]}"; do wait_up "${s#*:}"; done
# A cell is "qps µs/µs %/%": the rate, server/load generator CPU per query, and the share of its
# core each used; the limit of the row is the one whose core is full. The ratios are Shoal's
# against gdnsd: "qps" its rate over gdnsd's, "cost" gdnsd's server CPU per query over Shoal's
# (above 1: Shoal spends less per query).
# The machine's load, at the start and the end: other work decides how far the qps columns
# can be read (see CPU_WEIGHT).
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "${WORKLOADS-A}" ]; then
	echo "load generator: $GEN"
	if [ -n "${RT_QPS:-}" ]; then
		echo "servers: each limited to $CPU_QUOTA% of core 0 every $CPU_PERIOD ms, SCHED_FIFO (RT bandwidth, cpu cgroup v1); dnsflood SCHED_FIFO"
	elif [ -n "$CG_ROOT" ]; then
		echo "servers: each limited to $CPU_QUOTA% of core 0 every $CPU_PERIOD ms (cpu cgroup v$CG_V)"
	fi
	printf '%-6s' ""
	for s in "${SERVERS[@]}"; do printf ' %-28s' "${s%%:*}"; done
	printf ' %5s %5s\n' qps cost
fi
for _ in $(seq "${ROUNDS:-1}"); do
	for w in ${WORKLOADS-A ECS many}; do
		printf '%-6s' "$w"
		declare -A Q=() C=()
		for s in "${SERVERS[@]}"; do
			[ -n "${RT_QPS:-}" ] && cg_rt "${CG_OF[${s%%:*}]}" "$CPU_QUOTA" "${PID_OF[${s#*:}]}"
			read -r q sc gc su gu <<<"$(measure "$w" "${s#*:}")"
			[ -n "${RT_QPS:-}" ] && cg_rt "${CG_OF[${s%%:*}]}" 0 "${PID_OF[${s#*:}]}"
			Q[${s%%:*}]=$q C[${s%%:*}]=$sc
			printf ' %-28s' "$q $sc/$gc $su%/$gu%"
		done
		awk -v a="${Q[shoal]}" -v b="${Q[gdnsd]}" -v ca="${C[shoal]}" -v cb="${C[gdnsd]}" \
			'BEGIN { printf " %5.2f %5.2f\n", (b > 0 ? a / b : 0), (ca > 0 ? cb / ca : 0) }'
	done
done
# The tail is measured at a fixed, light load: without the limit, as before.
for c in "${CG_OF[@]}"; do cg_limit "$c" 0; done
if [ -n "${RT:-}" ]; then
	for s in "${SERVERS[@]}"; do
		# A task in a cpu cgroup of its own gets no RT time (chrt: not permitted): back to the
		# root group, which the qps table is over with anyway.
		[ -n "$CG_ROOT" ] && echo "${PID_OF[${s#*:}]}" >"$CG_ROOT/cgroup.procs"
		chrt -a -f -p 10 "${PID_OF[${s#*:}]}" >/dev/null
	done
	# dnsperf is not made SCHED_FIFO: it runs a sender and a receiver thread (and its main
	# thread) on one core, and under SCHED_FIFO a thread that spins waiting for another of the
	# same priority keeps it off the core until the kernel's RT throttling (95% of each
	# second) lets it in: one 10k-qps cell had a p99.9 of 819 ms that way, and a later dnsperf
	# spun for ten minutes after its last reply. Its highest SCHED_OTHER priority keeps other
	# work's share of its core small and lets its own threads take turns.
	PIN_CLIENT=(nice -n -20 "${PIN_CLIENT[@]}")
	# dnslat runs one thread that sleeps between queries, so SCHED_FIFO cannot starve a sibling
	# of its; at nice -20 under CFS it waited for other work's slices and fell behind its rate.
	LAT_RT=(chrt -f 5)
fi
# Each round starts with the next server in turn: the server measured first in a round had
# more of the multi-ms spikes (whichever build it was), so a fixed order would blame one.
rounds=${TAIL_ROUNDS:-${ROUNDS:-1}}
for r in $(seq 0 $((rounds - 1))); do
	for i in "${!SERVERS[@]}"; do
		s=${SERVERS[$(((i + r) % ${#SERVERS[@]}))]}
		printf '%-8s at 10k qps: %s\n' "${s%%:*}" "$(tail_latency "${s%%:*}" "${s#*:}")"
		printf '%-8s at 10k qps: %s\n' "${s%%:*}" "$(kernel_latency "${s%%:*}" "${s#*:}")"
	done
done
tail_summary "$WORK/tail" "dnsperf's latency (to the read of each reply):"
tail_summary "$WORK/tailk" "dnslat's latency (to the kernel's arrival stamp of each reply):"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
