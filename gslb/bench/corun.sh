#!/usr/bin/env bash
# DNS and HTTP load on one process at the same time, for each kind of UDP reader: does a
# blocking reader (Options.UDPBlocking, which holds a P and a thread for good) take from the
# HTTP data plane of the same node, or the other way round? Not run by tests.
# Usage: gslb/bench/corun.sh [seconds]   (from anywhere in the checkout; needs wrk and dnsperf)
#
# ./gslbserve -http serves 1 KiB hits (fasthttp, from memory, as an edge's hit path) beside
# gslb in one process pinned to core 0; wrk (-t1 -c32) and the DNS load run on core 1. For each
# reader kind (netpoll: -blocking=false, Options.UDPNetpoll; blocking: the default, one reader
# per CPU) it measures
#   http       wrk alone: requests/s
#   dns        dnsflood alone (A, no EDNS, one resolver): queries/s
#   both       wrk and dnsflood at once: requests/s and queries/s, against each alone
#   http+10k   wrk with dnsperf at a fixed 10,000 qps: requests/s and the DNS p99
# and the server's share of its core. Both load generators share core 1 in "both", alike for
# both reader kinds, so compare the kinds, not "both" against 100%.
set -euo pipefail

SECS=${1:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
MODROOT=$(cd "$HERE/../.." && pwd)
WORK=$(mktemp -d)
PID=""
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
for t in wrk dnsperf; do
	command -v "$t" >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$t" >/dev/null; }
done
(cd "$MODROOT" && go build -o "$WORK/gslbserve" ./gslb/bench/gslbserve && go build -o "$WORK/dnsflood" ./gslb/bench/dnsflood)

DNS_PORT=5310 HTTP_PORT=8310
echo "www.cdn.example.com A" >"$WORK/queries"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
http_load() { taskset -c 1 wrk -t1 -c32 -d"${SECS}s" "http://127.0.0.1:$HTTP_PORT/" | awk '/Requests\/sec/ {printf "%.0f", $2}'; }
dns_load() {
	taskset -c 1 "$WORK/dnsflood" -s 127.0.0.1 -p $DNS_PORT -l "$SECS" -q 200 -edns=false -subnets 0 -sources 1 |
		awk '/Queries per second/ {printf "%.0f", $4}'
}
dns_10k() { # p99 in ms at 10,000 qps
	taskset -c 1 dnsperf -s 127.0.0.1 -p $DNS_PORT -d "$WORK/queries" -l "$SECS" -c 4 -Q 10000 -v 2>/dev/null |
		awk '$1 == ">" {print $NF}' | sort -g | awk '{v[NR] = $1} END { if (NR == 0) print "none"; else printf "%.3f", v[int(NR*0.99)+1]*1000 }'
}
# share cmd...: runs cmd and prints its output and the server's share of its core meanwhile (%).
share() {
	local before after out
	before=$(cpu_ticks "$PID")
	out=$("$@")
	after=$(cpu_ticks "$PID")
	echo "$out $(((after - before) * 100 / $(getconf CLK_TCK) / SECS))%"
}

printf '%-9s %-10s %-10s %-26s %-20s\n' readers http dns "both (http dns)" "http+10k (http p99)"
for mode in netpoll blocking; do
	flags=(-blocking)
	[ $mode = netpoll ] && flags=(-blocking=false)
	taskset -c 0 "$WORK/gslbserve" -listen "127.0.0.1:$DNS_PORT" -http "127.0.0.1:$HTTP_PORT" -answers 4 \
		-regions local:127.0.0.0/8 -edges e0:local:192.0.2.1,e1:local:192.0.2.2,e2:local:192.0.2.3,e3:local:192.0.2.4 \
		"${flags[@]}" 2>"$WORK/$mode.log" &
	PID=$!
	for _ in $(seq 50); do
		curl -fs -o /dev/null "http://127.0.0.1:$HTTP_PORT/" 2>/dev/null && break
		sleep 0.1
	done
	h=$(share http_load)
	d=$(share dns_load)
	hb=$(mktemp -p "$WORK") db=$(mktemp -p "$WORK")
	before=$(cpu_ticks "$PID")
	http_load >"$hb" &
	w=$!
	dns_load >"$db"
	wait $w
	after=$(cpu_ticks "$PID")
	both="$(cat "$hb") $(cat "$db") $(((after - before) * 100 / $(getconf CLK_TCK) / SECS))%"
	http_load >"$hb" &
	w=$!
	p=$(dns_10k)
	wait $w
	printf '%-9s %-10s %-10s %-26s %-20s\n' $mode "$h" "$d" "$both" "$(cat "$hb") ${p}ms"
	kill "$PID"
	wait "$PID" 2>/dev/null || true
	PID=""
done
