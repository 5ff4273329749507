#!/usr/bin/env bash
# Shoal alone on a CDN-shaped zone, where the reply cache cannot help: 300 client networks in
# three regions (a quarter of the clients in none), 30 edges, 2 addresses per answer, under
# dnsflood's many-subnet load (10,000 client subnets from 1,000 resolver addresses). Prints
# queries per second and the server's CPU per query, ROUNDS times (default 3). With
# SHOAL_BASELINE=/path/to/gslbserve, an older build runs beside it, alternating, in the same
# rounds. dnsperf.sh's zone (two networks, every edge in every answer) never looks a client up
# among many networks nor chooses among edges; this one does on every query. Not run by tests.
# Usage: gslb/bench/cdnzone.sh [seconds]   (servers on CPU 0, load on CPU 1 when there are two)
set -euo pipefail

SECONDS_PER_RUN=${1:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
MODROOT=$(cd "$HERE/../.." && pwd)
WORK=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT

PIN_SERVER=() PIN_CLIENT=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	PIN_SERVER=(taskset -c 0) PIN_CLIENT=(taskset -c 1)
fi

# dnsflood's subnets are 10.0.0.0/24 to 10.39.15.0/24: 10.0-10.29 are in eu and us, 10.30-10.39
# in no region (the unmatched ECS scope); the other 270 networks are elsewhere.
REGIONS=""
for k in $(seq 0 14); do REGIONS+="eu:10.$((2 * k)).0.0/16,us:10.$((2 * k + 1)).0.0/16,"; done
for k in $(seq 0 99); do REGIONS+="ap:20.$k.0.0/16,"; done
for k in $(seq 0 169); do REGIONS+="ap:30.$((k / 100)).$((k % 100)).0/24,"; done
EDGES=""
NAMES=(eu us ap)
for i in $(seq 0 29); do EDGES+="e$i:${NAMES[$((i % 3))]}:192.0.2.$((i + 1)),"; done

(cd "$MODROOT" && go build -o "$WORK/gslbserve" ./gslb/bench/gslbserve &&
	go build -o "$WORK/dnsflood" ./gslb/bench/dnsflood)
declare -A PID_OF
SERVERS=("shoal:5310:$WORK/gslbserve")
[ -n "${SHOAL_BASELINE:-}" ] && SERVERS+=("baseline:5311:$SHOAL_BASELINE")
for s in "${SERVERS[@]}"; do
	IFS=: read -r name port bin <<<"$s"
	"${PIN_SERVER[@]}" "$bin" -listen "127.0.0.1:$port" -answers 2 -regions "${REGIONS%,}" \
		-edges "${EDGES%,}" 2>"$WORK/$name.log" &
	PIDS+=($!)
	PID_OF[$name]=$!
done
sleep 1

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
for round in $(seq "${ROUNDS:-3}"); do
	for s in "${SERVERS[@]}"; do
		IFS=: read -r name port _ <<<"$s"
		before=$(cpu_ticks "${PID_OF[$name]}")
		qps=$("${PIN_CLIENT[@]}" "$WORK/dnsflood" -s 127.0.0.1 -p "$port" -l "$SECONDS_PER_RUN" \
			-subnets 10000 -sources 1000 -q 200 | awk '/Queries per second/ {printf "%.0f", $4}')
		after=$(cpu_ticks "${PID_OF[$name]}")
		awk -v r="$round" -v n="$name" -v q="${qps:-0}" -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" \
			-v s="$SECONDS_PER_RUN" 'BEGIN { d = (q > 0 ? q * s : 1)
				printf "round %d %-8s %7d qps, %.2f µs server CPU per query\n", r, n, q, t / hz * 1e6 / d }'
	done
done
