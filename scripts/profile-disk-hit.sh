#!/usr/bin/env bash
# One disk-hit row of bench-disk-peers.sh (HTTP/1.1, 16 connections, cache.memory 16 MiB,
# working set 64 MiB, SIZE 256k or 1m, cache directory under DIR, default tmpfs), Shoal and
# nginx proxy_cache side by side, to look at a hit's cost rather than to rank:
#   strace  `strace -c -f` on each server over N requests: syscalls per response
#   perf    `perf record -e cpu-clock -g` on each server over N requests, into OUT
#           (bench-results/): perf report -i OUT/perf-shoal.data --no-children --sort sym
#   rps     ROUNDS rounds (default 3), alternating who goes first: req/s, the ratio, and each
#           server's CPU time per request (schedstat of all its threads) with nginx's over
#           Shoal's, steadier than req/s on a shared machine, and each server's voluntary
#           context switches per request (a thread going to sleep: sysmon, P hand-offs)
# Servers on core 0, h2load on core 1, the ports of bench-disk-peers.sh: take the bench lock
# (flock /tmp/shoal-bench.lock ...). BIN: a shoal binary (default: built from the tree); the
# environment reaches it, so a build with an experimental switch can be compared with itself.
# Usage: scripts/profile-disk-hit.sh strace|perf|rps [BIN]
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:?usage: $0 strace|perf|rps [BIN]}"
size="${SIZE:-256k}" requests="${N:-20000}" dir="${DIR:-/dev/shm}" out="${OUT:-bench-results}"
for tool in nginx h2load curl taskset openssl; do
	command -v "$tool" >/dev/null || { echo "needs $tool (scripts/bench-disk-peers.sh installs it)" >&2; exit 1; }
done
[ "$mode" = rps ] || command -v "$mode" >/dev/null || { echo "needs $mode" >&2; exit 1; }
work=$(mktemp -d "$dir/shoal-profile-disk.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
bin="${2:-}"
if [ -z "$bin" ]; then bin="$work/shoal"; go build -o "$bin" ./cmd/shoal; fi
mkdir -p "$out"
. scripts/disk-servers.sh
start_disk_servers "$work" "$bin"
case $size in 256k) objects=256 ;; 1m) objects=64 ;; *) echo "SIZE is 256k or 1m" >&2; exit 1 ;; esac
for srv in shoal nginx; do
	port=$port_shoal
	[ $srv = nginx ] && port=$port_nginx
	for i in $(seq 0 $((objects - 1))); do echo "http://127.0.0.1:$port/$size/$i"; done >"$work/urls-$srv"
	for _ in 1 2; do xargs -n 1 curl -s -o /dev/null <"$work/urls-$srv"; done
done
sleep 1 # the disk tier's writes leave its queue
load() { taskset -c 1 h2load --h1 -n "$requests" -c 16 -t 1 -i "$work/urls-$1" 2>&1; }
pid_of() { if [ "$1" = shoal ]; then echo "$shoal_pid"; else echo "$nginx_pid"; fi; }
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'; }
# Voluntary context switches of all the server's threads: each is a thread going to sleep
# (the Go runtime's sysmon, a thread parked after its P was handed off in a long system
# call). The involuntary ones are mostly a neighbour taking the core, so they are left out.
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt_switches/ { s += $2 } END { printf "%.0f\n", s }'; }
case $mode in
strace | perf)
	for srv in shoal nginx; do
		pid=$(pid_of $srv)
		if [ "$mode" = strace ]; then
			strace -c -f -p "$pid" -o "$work/strace" 2>/dev/null & tracer=$!
		else
			perf record -q -e cpu-clock -g -p "$pid" -o "$out/perf-$srv.data" 2>/dev/null & tracer=$!
		fi
		sleep 0.5
		echo "## $srv, $size, $requests requests: $(load $srv | awk '/^finished in/ { print $3, $4, "req/s" }')"
		kill -INT "$tracer"
		wait "$tracer" || true
		if [ "$mode" = strace ]; then head -25 "$work/strace"; else echo "$out/perf-$srv.data"; fi
	done
	;;
rps)
	one() { # server: req/s, CPU us and voluntary context switches per request
		local pid before cs r
		pid=$(pid_of "$1")
		before=$(cpu_ns "$pid") cs=$(switches "$pid")
		r=$(load "$1" | awk '/^finished in/ { gsub(/,/, ""); print $4 }')
		awk -v r="$r" -v a="$before" -v b="$(cpu_ns "$pid")" -v c="$cs" -v d="$(switches "$pid")" -v n="$requests" \
			'BEGIN { printf "%s %.1f %.2f\n", r, (b - a) / 1000 / n, (d - c) / n }'
	}
	for round in $(seq "${ROUNDS:-3}"); do
		if ((round % 2)); then
			read -r s sc ss < <(one shoal)
			read -r n nc ns < <(one nginx)
		else
			read -r n nc ns < <(one nginx)
			read -r s sc ss < <(one shoal)
		fi
		awk -v s="$s" -v n="$n" -v sc="$sc" -v nc="$nc" -v ss="$ss" -v ns="$ns" -v sz="$size" 'BEGIN { printf "%s round: shoal %.0f req/s, nginx %.0f, ratio %.2f; CPU us per request shoal %.1f, nginx %.1f, nginx/shoal %.2f; voluntary context switches per request shoal %.2f, nginx %.2f\n", sz, s, n, s / n, sc, nc, nc / sc, ss, ns }'
	done
	;;
*) echo "usage: $0 strace|perf|rps [BIN]" >&2; exit 1 ;;
esac
