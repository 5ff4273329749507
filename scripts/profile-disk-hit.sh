#!/usr/bin/env bash
# One disk-hit row of bench-disk-peers.sh (HTTP/1.1, 16 connections, cache.memory 16 MiB,
# working set 64 MiB, SIZE 256k, 512k or 1m, cache directory under DIR, default tmpfs), Shoal and
# nginx proxy_cache side by side, to look at a hit's cost rather than to rank:
#   sends   per response: sendfile calls, partial sends, EAGAINs, empty reads, epoll waits,
#           futex wake-ups (`strace -f`), each core's busy share and SO_SNDBUF in effect
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
mode="${1:?usage: $0 sends|strace|perf|rps [BIN]}"
size="${SIZE:-256k}" requests="${N:-20000}" dir="${DIR:-/dev/shm}" out="${OUT:-bench-results}"
for tool in nginx h2load curl taskset openssl; do
	command -v "$tool" >/dev/null || { echo "needs $tool (scripts/bench-disk-peers.sh installs it)" >&2; exit 1; }
done
case $mode in rps) ;; sends) command -v strace >/dev/null && command -v ss >/dev/null || { echo "needs strace and ss" >&2; exit 1; } ;; *) command -v "$mode" >/dev/null || { echo "needs $mode" >&2; exit 1; } ;; esac
work=$(mktemp -d "$dir/shoal-profile-disk.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
bin="${2:-}"
if [ -z "$bin" ]; then bin="$work/shoal"; go build -o "$bin" ./cmd/shoal; fi
mkdir -p "$out"
. scripts/disk-servers.sh
start_disk_servers "$work" "$bin"
case $size in 256k) objects=256 ;; 512k) objects=128 ;; 1m) objects=64 ;; *) echo "SIZE is 256k, 512k or 1m" >&2; exit 1 ;; esac
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
# busy CPU of core $1 in jiffies (user+nice+system+irq+softirq+steal) from /proc/stat
core_busy() { awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
core_all() { awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit }' /proc/stat; }
case $mode in
sends)
	# How the bytes leave, per response: `strace -f` of the socket calls over N requests
	# (sendfile calls, partial sends, EAGAIN, reads that found nothing, waits in epoll,
	# futex wake-ups), then untraced the same N: each core's busy share (server on 0,
	# h2load on 1) and the send buffer in effect on the server's sockets (`ss -tmi`: tb is
	# SO_SNDBUF, as autotuning left it; unacked/cwnd/snd_wnd say what TCP allowed).
	for srv in shoal nginx; do
		pid=$(pid_of $srv)
		port=$port_shoal
		[ $srv = nginx ] && port=$port_nginx
		strace -f -qq -e trace=sendfile,write,writev,read,recvfrom,epoll_wait,epoll_pwait,futex,setsockopt,nanosleep -p "$pid" -o "$work/trace-$srv" 2>/dev/null & tracer=$!
		sleep 0.5
		load $srv >/dev/null
		kill -INT "$tracer"
		wait "$tracer" || true
		awk -v n="$requests" -v srv="$srv" -v size="$size" '
			# A call another thread interrupted in the trace ends on a "resumed" line (by pid).
			function judge(want, line) { if (line ~ /EAGAIN/) sfa++; else { got = line; sub(/.*= /, "", got); if (got + 0 < want + 0) part++ } }
			/ sendfile\(/ { sf++; want = $0; sub(/.*, /, "", want); sub(/[) ].*/, "", want)
				if ($0 ~ /unfinished/) pending[$1] = want; else judge(want, $0) }
			/<\.\.\. sendfile resumed>/ { judge(pending[$1], $0) }
			/ (write|writev)\(/ { wr++; if ($0 ~ /EAGAIN/) wra++ }
			/ (read|recvfrom)\(/ { rd++; if ($0 ~ /EAGAIN/) rda++ }
			/ epoll_p?wait\(/ { ep++ }
			/ futex\(/ { fx++ }
			/ nanosleep\(/ { ns++ }
			END { printf "## %s, %s, %d requests traced, per response: sendfile %.2f (partial %.2f, EAGAIN %.2f), write/writev %.2f (EAGAIN %.2f), read %.2f (EAGAIN %.2f), epoll waits %.2f, futex %.2f, nanosleep %.2f\n",
				srv, size, n, sf / n, part / n, sfa / n, wr / n, wra / n, rd / n, rda / n, ep / n, fx / n, ns / n }' "$work/trace-$srv"
		nstat -n >/dev/null # start nstat's history: the next nstat prints what changed since
		b0=$(core_busy 0) a0=$(core_all 0) b1=$(core_busy 1) a1=$(core_all 1) c0=$(cpu_ns "$pid")
		load $srv >"$work/h2load.out" & loader=$!
		sleep 0.3
		ss -tmi state established "( sport = :$port )" >"$work/ss-$srv"
		wait "$loader" || true
		# Segments both ways on loopback (the server's data and the client's requests and
		# ACKs), a neighbour's traffic included: a rough count per response.
		nstat TcpOutSegs TcpExtTCPHPAcks TcpExtTCPPureAcks 2>/dev/null | awk -v n="$requests" '/^Tcp/ { printf "   %s per response %.2f\n", $1, $2 / n }'
		echo "   server CPU per response $(( ($(cpu_ns "$pid") - c0) / requests / 1000 )) us"
		awk -v b0="$b0" -v a0="$a0" -v b1="$b1" -v a1="$a1" -v c0="$(core_busy 0)" -v t0="$(core_all 0)" -v c1="$(core_busy 1)" -v t1="$(core_all 1)" \
			'/^finished in/ { gsub(/,/, ""); r = $4 } END { printf "   untraced: %s req/s; core 0 (servers) busy %.0f%%, core 1 (h2load) busy %.0f%%\n", r, 100 * (c0 - b0) / (t0 - a0 + 1e-9), 100 * (c1 - b1) / (t1 - a1 + 1e-9) }' "$work/h2load.out"
		grep -o 'tb[0-9]*' "$work/ss-$srv" | sort | uniq -c | awk '{ printf "   SO_SNDBUF in effect: %s on %d sockets\n", $2, $1 }'
		grep -o 'snd_wnd:[0-9]*' "$work/ss-$srv" | sort | uniq -c | sort -rn | head -2 | awk '{ printf "   %s on %d sockets\n", $2, $1 }'
	done
	;;
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
