#!/usr/bin/env bash
# Disk hits end to end: Shoal with cache.memory 16 MiB and a disk tier, next to nginx
# proxy_cache, both holding a working set of 4x that memory (64 MiB) of 256 KiB or 1 MiB
# objects. Runs once per cache directory in DISKS (default: tmpfs /dev/shm, then the real
# disk under ${TMPDIR:-/tmp}). Servers on core 0, h2load (HTTP/1.1, 16 connections) on core
# 1; every URL is warmed twice first. Each protocol in PROTOS (default "h1 h2 h2c"): HTTP/1.1
# (h2load --h1, 16 connections), HTTP/2 over TLS (ALPN h2; Shoal's listen.https, nginx
# "listen ssl http2") and HTTP/2 over cleartext with prior knowledge (Shoal's listen.h2c,
# nginx "listen http2"), both with 16 connections of 10 streams (h2load -m 10). ROUNDS rounds
# (default 5), Shoal and nginx interleaved and alternating who goes first, so a noisy
# neighbour on the shared machine hits both; prints req/s and Shoal's ratio to nginx per
# round (with each server's busy share of core 0 and h2load's of core 1, in percent), then
# the median and range of the ratios, and at the end a summary table of the
# medians (also written to bench-results/). Beside req/s, each run's CPU time of the server
# process (all threads' schedstat, the loopback's softirq work included) per request: a
# neighbour's load slows both servers' req/s but hardly their CPU per request, so the ratio
# of the two (nginx's over Shoal's, above 1: Shoal cheaper) is the steadier figure on a
# shared machine; when both cores are busy, h2load's core bounds req/s as much as the
# server's. nginx runs with sendfile and without tcp_nopush (NGINX_NOPUSH=on to compare): with
# it, its req/s here was several times lower, and its hits after a restart stalled for a
# second at a time (bench-disk-warm.sh). SHOAL_BIN: a binary to measure instead of
# the tree; SHOAL_BASE: a baseline binary measured in the same rounds (the three servers in
# turn, each round starting one further): its req/s, CPU per request and share of core 0,
# Shoal's req/s over its (new/base), and in the summary the medians of new/base and of the
# baseline's ratio to nginx, a before/after from one run in which both builds meet the same
# neighbours. RAM_CACHE_CUTOFF: cache.disk.ram_cache_cutoff. DURATION (seconds, e.g. 3): each
# run lasts that long (h2load -D) instead of a number of requests, so a 256 KiB run (4000
# requests: 0.2 s at 20k req/s) is as long as a 1 MiB one and a neighbour's burst weighs on
# both rows alike; CPU per request is then over the requests done. The median of an even
# number of rounds is the mean of the middle two (it was the lower one: with ROUNDS=2, the
# worse round). Each table starts with the load average, and each summary line ends with the
# 1-minute load at its end: on the shared 2-core machine a row measured at a load of 10 says
# little about req/s (CPU per request holds better). SIZES (default "256k 1m"; also 512k, the
# cork threshold's neighbourhood, edge/cork.go): the object sizes, each a working set of
# 64 MiB. CLIENT=sinkload drives the h1 rows with scripts/bench/sinkload -urls (16
# connections, DURATION or 3 s per run; bodies dropped in the kernel, not copied, so the
# client's core is less often the limit) instead of h2load; h2 and h2c keep h2load. Nothing
# is asserted.
# Usage: scripts/bench-disk-peers.sh [requests per run]
set -euo pipefail
cd "$(dirname "$0")/.."
requests="${1:-3000}"
rounds="${ROUNDS:-5}"
disks="${DISKS:-/dev/shm ${TMPDIR:-/tmp}}"
protos="${PROTOS:-h1 h2 h2c}"
sizes="${SIZES:-256k 1m}"
missing=()
for pair in nginx:nginx-light h2load:nghttp2-client openssl:openssl curl:curl taskset:util-linux; do
	command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair##*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "needs ${missing[*]} (apt-get install ${missing[*]})" >&2
		exit 1
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
bin=$(mktemp -d)
if [ -n "${SHOAL_BIN:-}" ]; then cp "$SHOAL_BIN" "$bin/shoal"; else go build -o "$bin/shoal" ./cmd/shoal; fi
case ${CLIENT:-h2load} in
h2load) ;;
sinkload) go build -o "$bin/sinkload" ./scripts/bench/sinkload ;;
*) echo "CLIENT=$CLIENT: h2load or sinkload" >&2; exit 2 ;;
esac
pids=() work=""
stop_all() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	pids=()
	[ -n "$work" ] && rm -rf "$work"
	work=""
}
trap 'stop_all; rm -rf "$bin"' EXIT
mkdir -p bench-results
: >bench-results/disk-peers-h2load.log
. scripts/disk-servers.sh
summary=$(mktemp)

# rps_sink urls-file: rps's line for one run of sinkload (CLIENT=sinkload, h1 rows): it
# refuses a row whose bodies are not $size's bytes or that counted errors ("!" then).
rps_sink() {
	local bytes out
	case $size in 256k) bytes=262144 ;; 512k) bytes=524288 ;; 1m) bytes=1048576 ;; esac
	out=$(taskset -c 1 "$bin/sinkload" -urls "$1" -size "$bytes" -c 16 -d "${DURATION:-3}s" 2>>bench-results/disk-peers-h2load.log || true)
	printf '%s\n' "$out" >>bench-results/disk-peers-h2load.log
	# rps p50 p99 responses errors body_bytes cpu_us: CPU over the run's seconds, in percent.
	awk -v d="${DURATION:-3}" '{ u = $7 / 1e4 / d
		if ($5 > 0 || $1 == 0) printf "%s!%d %.0f %d\n", $1, $5 + 1, u, $4; else printf "%s %.0f %d\n", $1, u, $4 }' <<<"$out"
}
rps() { # proto urls-file
	[ "$1" = h1 ] && [ "${CLIENT:-h2load}" = sinkload ] && { rps_sink "$2"; return; }
	local flags=(-m 10)
	[ "$1" = h1 ] && flags=(--h1)
	# req/s, with "!" and the count appended when requests failed (a stall or an error, not a
	# speed: see the h2load output kept in bench-results/disk-peers-h2load.log).
	# Then h2load's own CPU time over its wall time, in percent of its core: near 100, the
	# client's core bounds req/s and only the servers' CPU per request can tell them apart.
	local out times count=(-n "$requests")
	[ -n "${DURATION:-}" ] && count=(-D "$DURATION")
	times=$({ TIMEFORMAT='%U %S %R'; time taskset -c 1 h2load "${flags[@]}" "${count[@]}" -c 16 -t 1 -i "$2" >"$work/h2load.out" 2>&1 || true; } 2>&1)
	out=$(cat "$work/h2load.out")
	printf '%s\n' "$out" >>bench-results/disk-peers-h2load.log
	# Last, the requests done, for CPU per request.
	awk -v t="$times" '/^finished in/ { gsub(/,/, ""); r = $4 } /^requests:/ { bad = $10 + $12 + $14; done = $6 }
		END { split(t, c, " "); u = c[3] > 0 ? 100 * (c[1] + c[2]) / c[3] : 0
			if (bad > 0) printf "%s!%d %.0f %d\n", r, bad, u, done; else printf "%s %.0f %d\n", r, u, done }' <<<"$out"
}
url_base() { # proto server
	case $1-$2 in
	h1-shoal) echo "http://127.0.0.1:$port_shoal" ;;
	h1-nginx) echo "http://127.0.0.1:$port_nginx" ;;
	h2-shoal) echo "https://127.0.0.1:$port_shoal_tls" ;;
	h2-nginx) echo "https://127.0.0.1:$port_nginx_tls" ;;
	h2c-shoal) echo "http://127.0.0.1:$port_shoal_h2c" ;;
	h2c-nginx) echo "http://127.0.0.1:$port_nginx_h2c" ;;
	h1-base) echo "http://127.0.0.1:$port_base" ;;
	h2-base) echo "https://127.0.0.1:$port_base_tls" ;;
	h2c-base) echo "http://127.0.0.1:$port_base_h2c" ;;
	esac
}
ratio() { awk -v a="${1%%!*}" -v b="${2%%!*}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
cpu_ns() { { cat /proc/"$1"/task/*/schedstat 2>/dev/null || true; } | awk '{ s += $1 } END { printf "%.0f\n", s }'; } # pid
# measure server proto urls-file: prints "req/s cpu-us-per-request server%/h2load%", the
# server's busy share of its core (CPU per request times req/s) and h2load's of its own
measure() {
	local pid=$shoal_pid
	[ "$1" = nginx ] && pid=$nginx_pid
	[ "$1" = base ] && pid=$base_pid
	local before r u n
	before=$(cpu_ns "$pid")
	read -r r u n < <(rps "$2" "$3")
	((n > 0)) || n=$requests
	awk -v r="$r" -v u="$u" -v a="$before" -v b="$(cpu_ns "$pid")" -v n="$n" \
		'BEGIN { us = (b - a) / 1000 / n; printf "%s %.1f %.0f/%s\n", r, us, us * r / 1e4, u }'
}

bench_on() { # base directory of the caches
	work=$(mktemp -d "$1/shoal-bench-disk.XXXXXX")
	start_disk_servers "$work" "$bin/shoal"
	srvs="shoal nginx"
	[ -n "${SHOAL_BASE:-}" ] && srvs="shoal nginx base"
	fs="$(df --output=fstype "$1" | tail -1)"
	per="$requests requests"
	[ -n "${DURATION:-}" ] && per="$DURATION s"
	echo "## $fs ($1): cache.memory 16 MiB, working set 64 MiB, $per per run"
	for size in $sizes; do
		case $size in 256k) objects=256 ;; 512k) objects=128 ;; 1m) objects=64 ;; *) echo "SIZES: 256k, 512k or 1m" >&2; exit 1 ;; esac
		# Warm over HTTP/1.1: every protocol then reads the same cached objects.
		for srv in $srvs; do
			for _ in 1 2; do
				for i in $(seq 0 $((objects - 1))); do echo "$(url_base h1 $srv)/$size/$i"; done | xargs -n 1 curl -s -o /dev/null
			done
		done
		sleep 1 # the disk tier's writes leave its queue
		for proto in $protos; do
			for srv in $srvs; do
				for i in $(seq 0 $((objects - 1))); do echo "$(url_base "$proto" $srv)/$size/$i"; done >"$work/urls-$proto-$srv"
			done
			if [ "$proto" = h2 ]; then
				for srv in $srvs; do
					v=$(curl -sk --http2 -o /dev/null -w '%{http_version}' "$(url_base h2 $srv)/$size/0")
					[ "$v" = 2 ] || { echo "$srv does not speak h2 on its TLS listener (HTTP/$v)" >&2; exit 1; }
				done
			fi
			echo "load average $(cut -d' ' -f1-3 /proc/loadavg) (2 cores, shared)"
			basecols=""
			[ -n "${SHOAL_BASE:-}" ] && basecols=$(printf ' %12s %9s %9s %9s' base_rps base_us base%/cl new/base)
			printf '%-6s %-4s %5s %8s %12s %12s %8s %9s %9s %9s %9s %9s%s\n' size prot round objects shoal_rps nginx_rps ratio shoal_us nginx_us cpu_ratio shoal%/cl nginx%/cl "$basecols"
			ratios=() cpus=() bases=() basen=()
			for round in $(seq "$rounds"); do
				# Each round starts one server further along (without a baseline: alternating).
				order=($srvs)
				for _ in $(seq $((round % ${#order[@]}))); do order=("${order[@]:1}" "${order[0]}"); done
				for srv in "${order[@]}"; do
					case $srv in
					shoal) read -r s scpu sutil < <(measure shoal "$proto" "$work/urls-$proto-shoal") ;;
					nginx) read -r n ncpu nutil < <(measure nginx "$proto" "$work/urls-$proto-nginx") ;;
					base) read -r b bcpu butil < <(measure base "$proto" "$work/urls-$proto-base") ;;
					esac
				done
				r=$(ratio "$s" "$n")
				c=$(ratio "$ncpu" "$scpu")
				ratios+=("$r") cpus+=("$c")
				basecols=""
				if [ -n "${SHOAL_BASE:-}" ]; then
					bases+=("$(ratio "$s" "$b")") basen+=("$(ratio "$b" "$n")")
					basecols=$(printf ' %12s %9s %9s %9s' "$b" "$bcpu" "$butil" "${bases[-1]}")
				fi
				printf '%-6s %-4s %5s %8s %12s %12s %8s %9s %9s %9s %9s %9s%s\n' "$size" "$proto" "$round" "$objects" "$s" "$n" "$r" "$scpu" "$ncpu" "$c" "$sutil" "$nutil" "$basecols"
			done
			if [ -n "${SHOAL_BASE:-}" ]; then
				for pair in "new/base:${bases[*]}" "base/nginx:${basen[*]}"; do
					printf '%s\n' ${pair#*:} | sort -n | awk -v size="$size" -v proto="$proto" -v fs="$fs" -v sum="$summary" -v what="${pair%%:*}" '{ r[NR] = $1 }
						END { line = sprintf("%-6s %-4s %s median %.2f, range %.2f-%.2f over %d rounds", size, proto, what, (r[int((NR + 1) / 2)] + r[int(NR / 2) + 1]) / 2, r[1], r[NR], NR)
							print line; printf "%-6s %s\n", fs, line >>sum }'
				done
			fi
			cpu_median=$(printf '%s\n' "${cpus[@]}" | sort -n | awk '{ c[NR] = $1 } END { printf "%.2f (%.2f-%.2f)", (c[int((NR + 1) / 2)] + c[int(NR / 2) + 1]) / 2, c[1], c[NR] }')
			printf '%s\n' "${ratios[@]}" | sort -n | awk -v load="$(cut -d' ' -f1 /proc/loadavg)" -v size="$size" -v proto="$proto" -v fs="$fs" -v sum="$summary" -v cpu="$cpu_median" '{ r[NR] = $1 }
				END { line = sprintf("%-6s %-4s ratio median %.2f, range %.2f-%.2f over %d rounds; CPU per request nginx/shoal %s; load %s", size, proto, (r[int((NR + 1) / 2)] + r[int(NR / 2) + 1]) / 2, r[1], r[NR], NR, cpu, load)
					print line; printf "%-6s %s\n", fs, line >>sum }'
		done
	done
	curl -s "http://127.0.0.1:$port_admin/stats.json" | grep -A8 '"disk"' | tr -d ' \n' || true
	echo
	stop_all
}

out="bench-results/disk-peers-$(date -u +%Y%m%dT%H%M%SZ).txt"
{
	for d in $disks; do bench_on "$d"; done
	echo "## disk hits, Shoal/nginx proxy_cache req/s (median of the per-round ratios)"
	cat "$summary"
} | tee "$out"
rm -f "$summary"
