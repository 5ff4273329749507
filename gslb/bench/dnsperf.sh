#!/usr/bin/env bash
# Compare Shoal's gslb with gdnsd on loopback: same zone, same answers, same load, one run.
# Not run by tests. Needs root for apt-get when dnsperf or gdnsd are missing.
# Usage: gslb/bench/dnsperf.sh [seconds]   (from anywhere in the checkout)
# SHOAL_BASELINE=/path/to/gslbserve also measures that build (e.g. one from before a change)
# in the same run, on port 5302. ROUNDS=N repeats the qps table N times (the machine's noise
# shows as the spread). NICE=-10 runs servers and load generators at that priority (needs root),
# which keeps other work on a shared machine from dominating the tail figures. RT=1 runs the
# tail part (only) with every server thread and dnsperf under SCHED_FIFO priority 10 (needs root;
# at 10,000 qps each uses a fraction of its core), so that on a shared machine the tail is the
# servers' own rather than the other work's. WORKLOADS="A many" narrows the qps table to those
# workloads (WORKLOADS= leaves only the tail part), TAIL_ROUNDS=N repeats the tail part N times
# (default ROUNDS).
#
# Workloads, each against every server in turn:
#   A       dnsperf, one name, type A, from one resolver address, no EDNS
#   ECS     dnsperf, the same with EDNS Client Subnet 10.1.2.0/24
#   many    dnsflood (./dnsflood): 10,000 client subnets in ECS from 1,000 resolver addresses
#           (127.1.x.y), so no reply is ever a repeat of a recent one
#   10k     dnsperf at 10,000 queries per second (A, no EDNS): p50, p99, p99.9 of the latency
# Each qps cell is "queries per second/server CPU µs per query/load generator CPU µs per query"
# (server from /proc/PID/stat, load generator from bash's time). When the load generator's CPU
# per query times the rate is close to one second per second, its core is full: the rate is
# then the load generator's limit as much as the server's.
# Servers are pinned to CPU 0 and the load generators to CPU 1 when there are two cores.
set -euo pipefail

SECONDS_PER_RUN=${1:-10}
SHOAL_PORT=5300
GDNSD_PORT=5301
BASELINE_PORT=5302
HERE=$(cd "$(dirname "$0")" && pwd)
MODROOT=$(cd "$HERE/../.." && pwd)
WORK=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -f "$WORK/gdnsd/run/gdnsd.pid" ] && kill "$(cat "$WORK/gdnsd/run/gdnsd.pid")" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

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
	go build -o "$WORK/dnsflood" ./gslb/bench/dnsflood)
"${PIN_SERVER[@]}" "$WORK/gslbserve" -listen "127.0.0.1:$SHOAL_PORT" -answers ${#ADDRS[@]} \
	-regions "$REGIONS" -edges "$EDGES" 2>"$WORK/gslbserve.log" &
PIDS+=($!)
declare -A PID_OF=([$SHOAL_PORT]=$!)
if [ -n "${SHOAL_BASELINE:-}" ]; then
	"${PIN_SERVER[@]}" "$SHOAL_BASELINE" -listen "127.0.0.1:$BASELINE_PORT" -answers ${#ADDRS[@]} \
		-regions "$REGIONS" -edges "$EDGES" 2>"$WORK/baseline.log" &
	PIDS+=($!)
	PID_OF[$BASELINE_PORT]=$!
fi

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
"${PIN_SERVER[@]}" gdnsd -c "$WORK/gdnsd" -D start >"$WORK/gdnsd.log" 2>&1 &
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
perf() { "${PIN_CLIENT[@]}" dnsperf -s 127.0.0.1 -p "$1" -d "$WORK/queries" -l "$SECONDS_PER_RUN" "${@:2}"; }
qps_of() { awk '/Queries per second/ {printf "%.0f", $4}'; }
# cpu_ticks pid: user+system clock ticks the process (every thread) has used so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
measure() { # workload port: "qps/µs/µs" with µs = server and load generator CPU per answered
	# query, which the load on a shared machine disturbs far less than the rate
	local before after qps client
	before=$(cpu_ticks "${PID_OF[$2]}")
	client=$( { TIMEFORMAT='%U %S'; time measure_qps "$@" >"$WORK/qps" 2>/dev/null; } 2>&1)
	after=$(cpu_ticks "${PID_OF[$2]}")
	qps=$(cat "$WORK/qps")
	awk -v q="${qps:-0}" -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v s="$SECONDS_PER_RUN" \
		-v c="$client" 'BEGIN { split(c, u, " "); d = (q > 0 ? q * s : 1)
			printf "%d/%.2f/%.2f", q, t / hz * 1e6 / d, (u[1] + u[2]) * 1e6 / d }'
}
measure_qps() { # workload port
	case $1 in
	A) perf "$2" -c 4 -Q 1000000 | qps_of ;;
	ECS) perf "$2" -c 4 -Q 1000000 -E "$ECS_OPT" | qps_of ;;
	many) "${PIN_CLIENT[@]}" "$WORK/dnsflood" -s 127.0.0.1 -p "$2" -l "$SECONDS_PER_RUN" \
		-subnets 10000 -sources 1000 -q 200 | qps_of ;;
	esac
}
tail_latency() { # port: p50 p99 p99.9 in ms at 10,000 qps, from dnsperf's per-query report
	perf "$1" -c 4 -Q 10000 -v 2>/dev/null | awk '$1 == ">" {print $NF}' | sort -g |
		awk '{v[NR] = $1} END {
			if (NR == 0) { print "no replies"; exit }
			printf "%d replies, p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms\n", NR,
				v[int(NR*0.5)+1]*1000, v[int(NR*0.99)+1]*1000, v[int(NR*0.999)+1]*1000 }'
}

SERVERS=("shoal:$SHOAL_PORT" "gdnsd:$GDNSD_PORT")
[ -n "${SHOAL_BASELINE:-}" ] && SERVERS+=("baseline:$BASELINE_PORT")
for s in "${SERVERS[@]}"; do wait_up "${s#*:}"; done
[ -n "${SHOAL_BASELINE:-}" ] && echo "baseline: $SHOAL_BASELINE"
if [ -n "${WORKLOADS-A}" ]; then
	printf '%-6s' "qps/µs"
	for s in "${SERVERS[@]}"; do printf ' %19s' "${s%%:*}"; done
	echo
fi
for _ in $(seq "${ROUNDS:-1}"); do
	for w in ${WORKLOADS-A ECS many}; do
		printf '%-6s' "$w"
		for s in "${SERVERS[@]}"; do printf ' %19s' "$(measure "$w" "${s#*:}")"; done
		echo
	done
done
if [ -n "${RT:-}" ]; then
	for s in "${SERVERS[@]}"; do chrt -a -f -p 10 "${PID_OF[${s#*:}]}" >/dev/null; done
	PIN_CLIENT=(chrt -f 10 "${PIN_CLIENT[@]}")
fi
for _ in $(seq "${TAIL_ROUNDS:-${ROUNDS:-1}}"); do
	for s in "${SERVERS[@]}"; do
		printf '%-8s at 10k qps: %s\n' "${s%%:*}" "$(tail_latency "${s#*:}")"
	done
done
