#!/usr/bin/env bash
# Compare the query rate of Shoal's gslb with gdnsd on loopback, same zone, same query.
# Not run by tests. Needs root for apt-get when dnsperf or gdnsd are missing.
# Usage: gslb/bench/dnsperf.sh [seconds]   (from anywhere in the checkout)
# SHOAL_BASELINE=/path/to/gslbserve also measures that build (e.g. one from before a change)
# in the same run, on port 5302.
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

# Pin servers to CPU 0 and dnsperf to CPU 1 when there are two cores.
PIN_SERVER=() PIN_CLIENT=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	PIN_SERVER=(taskset -c 0) PIN_CLIENT=(taskset -c 1)
fi

# The same data for both: www has four A records, all returned.
ADDRS=(192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4)
EDGES=""
for i in "${!ADDRS[@]}"; do EDGES+="${EDGES:+,}e$i:local:${ADDRS[$i]}"; done

(cd "$MODROOT" && go build ${GOFLAGS_EXTRA:-} -o "$WORK/gslbserve" ./gslb/bench/gslbserve)
"${PIN_SERVER[@]}" "$WORK/gslbserve" -listen "127.0.0.1:$SHOAL_PORT" -answers ${#ADDRS[@]} \
	-edges "$EDGES" 2>"$WORK/gslbserve.log" &
PIDS+=($!)
if [ -n "${SHOAL_BASELINE:-}" ]; then
	"${PIN_SERVER[@]}" "$SHOAL_BASELINE" -listen "127.0.0.1:$BASELINE_PORT" -answers ${#ADDRS[@]} \
		-edges "$EDGES" 2>"$WORK/baseline.log" &
	PIDS+=($!)
fi

mkdir -p "$WORK/gdnsd/zones" "$WORK/gdnsd/run" "$WORK/gdnsd/state"
cat >"$WORK/gdnsd/config" <<CONF
options => {
  listen => [ 127.0.0.1 ]
  dns_port => $GDNSD_PORT
  run_dir => $WORK/gdnsd/run
  state_dir => $WORK/gdnsd/state
}
CONF
{
	echo '$TTL 20'
	echo '@ SOA ns1 hostmaster 1 3600 600 86400 60'
	echo '@ NS ns1'
	echo "ns1 A ${ADDRS[0]}"
	for a in "${ADDRS[@]}"; do echo "www A $a"; done
} >"$WORK/gdnsd/zones/cdn.example.com"
"${PIN_SERVER[@]}" gdnsd -c "$WORK/gdnsd" start 2>"$WORK/gdnsd.log" &
PIDS+=($!)

echo "www.cdn.example.com A" >"$WORK/queries"
wait_up() {
	for _ in $(seq 50); do
		dnsperf -s 127.0.0.1 -p "$1" -d "$WORK/queries" -n 1 >/dev/null 2>&1 && return
		sleep 0.2
	done
	echo "server on port $1 did not answer; logs:" >&2
	cat "$WORK"/*.log >&2
	exit 1
}
qps() {
	"${PIN_CLIENT[@]}" dnsperf -s 127.0.0.1 -p "$1" -d "$WORK/queries" -l "$SECONDS_PER_RUN" -c 4 -Q 1000000 \
		| awk '/Queries per second/ {print $4}'
}
wait_up $SHOAL_PORT
wait_up $GDNSD_PORT
if [ -n "${SHOAL_BASELINE:-}" ]; then
	wait_up $BASELINE_PORT
	echo "shoal gslb (baseline $SHOAL_BASELINE): $(qps $BASELINE_PORT) qps"
fi
echo "shoal gslb: $(qps $SHOAL_PORT) qps"
echo "gdnsd:      $(qps $GDNSD_PORT) qps"
