#!/usr/bin/env bash
# Restart to warm: how soon a restarted cache serves its working set as hits again. Shoal
# with cache.memory 16 MiB and a disk tier, next to nginx proxy_cache, which also keeps its
# cache on disk and reloads its index after a restart (here with its master process, so the
# cache loader runs as in production). Working set: OBJECTS (default 4000) objects of SIZE
# bytes (default 65536), 16x memory at the defaults, cache files under DISK_DIR (default the
# real disk under ${TMPDIR:-/tmp}; /dev/shm for tmpfs).
#
# Per server: two passes fill the cache, a third records which URLs are hits (the
# pre-restart hits); then the server is stopped (Shoal by SIGTERM and, in another run, by
# SIGKILL; nginx by SIGTERM) and started again, and a client (8 connections, looping over
# the pre-restart hits from the moment of the start) measures warm_ms: the time from the
# start until 95% of those URLs have been hits again. A URL answered by a miss is refetched,
# so a cache that lost everything warms in about two passes; one that reloads its index
# serves hits as soon as it is loaded. Also printed: the share of URLs that were hits on
# their first request after the restart (first_pass, of those answered before warm), the
# origin requests the warm-up cost, up_ms (the first answer after the start) and slow_1s
# (requests that took over a second: a stall). Results also go to bench-results/.
# nginx runs without tcp_nopush here: with it, its hits after a restart stalled (warm_ms
# 11-17 s against 85 ms without it, 2000 objects of 64 KiB, measured while writing this).
# nginx keeps open_file_cache as bench-disk-peers.sh sets it (NGINX_OPEN_FILE_CACHE; empty
# after each restart, as in production).
# ROUNDS rounds (default 3), the three runs interleaved. Servers on core 0, client on core 1;
# the machine is shared: compare within a round. SHOAL_BIN: a binary to measure instead of
# the tree's. Nothing is asserted.
# Usage: scripts/bench-disk-warm.sh
set -euo pipefail
cd "$(dirname "$0")/.."
objects="${OBJECTS:-4000}" size="${SIZE:-65536}" rounds="${ROUNDS:-3}"
base="${DISK_DIR:-${TMPDIR:-/tmp}}"
command -v nginx >/dev/null || { echo "needs nginx (apt-get install nginx)" >&2; exit 1; }
work=$(mktemp -d "$base/shoal-bench-warm.XXXXXX")
pids=() shoal_pid=""
cleanup() {
	exec 2>/dev/null # no "Killed" job notices for the servers stopped here
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	[ -n "$shoal_pid" ] && kill -9 "$shoal_pid" 2>/dev/null || true
	[ -f "$work/nginx.pid" ] && kill -TERM "$(cat "$work/nginx.pid")" 2>/dev/null || true
	# Only these: a bare wait would also wait for the tee below, which waits for this shell.
	for p in "${pids[@]}" $shoal_pid; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
if [ -n "${SHOAL_BIN:-}" ]; then cp "$SHOAL_BIN" "$work/shoal"; else go build -o "$work/shoal" ./cmd/shoal; fi
# The client: stdlib only, built in its own module so the repository's go.mod is untouched.
mkdir -p "$work/warmclock-src"
printf 'module warmclock\n\ngo 1.22\n' >"$work/warmclock-src/go.mod"
cat >"$work/warmclock-src/main.go" <<'GO'
// warmclock measures how soon a restarted cache serves its working set as hits again.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	urlsFile := flag.String("urls", "", "file of URLs, one a line")
	header := flag.String("header", "Cache-Status", "response field that says hit or miss")
	hitWord := flag.String("hit", "hit", "a hit's field contains this (case-insensitive)")
	conns := flag.Int("c", 8, "concurrent connections")
	want := flag.Float64("want", 0.95, "share of the URLs that must have been hits again")
	since := flag.Int64("since", 0, "Unix ns the clock starts at (the restart); 0: now")
	timeout := flag.Duration("timeout", 60*time.Second, "give up after")
	pass := flag.String("pass", "", "one pass only: write the URLs that were hits to this file")
	flag.Parse()
	f, err := os.Open(*urlsFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var urls []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if u := strings.TrimSpace(sc.Text()); u != "" {
			urls = append(urls, u)
		}
	}
	start := time.Now()
	if *since != 0 {
		start = time.Unix(0, *since)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *conns, DisableCompression: true}}
	word := strings.ToLower(*hitWord)
	get := func(u string) (bool, bool) {
		resp, err := client.Get(u)
		if err != nil {
			return false, false
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode == 200 && strings.Contains(strings.ToLower(resp.Header.Get(*header)), word), true
	}
	n := len(urls)
	first := make([]atomic.Int32, n) // 0 not answered yet, 1 first answer a hit, 2 a miss
	hitAt := make([]atomic.Int64, n)
	var next, hitURLs, requests, misses, errs, reached, firstAnswer, slow atomic.Int64
	done := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for range *conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				k := next.Add(1) - 1
				if *pass != "" && k >= int64(n) {
					return
				}
				i := int(k % int64(n))
				t := time.Now()
				hit, ok := get(urls[i])
				now := time.Since(start)
				if d := time.Since(t); d > time.Second {
					slow.Add(1)
				}
				requests.Add(1)
				if ok {
					firstAnswer.CompareAndSwap(0, int64(now))
				} else {
					errs.Add(1)
					time.Sleep(2 * time.Millisecond) // not listening yet
				}
				if ok {
					v := int32(2)
					if hit {
						v = 1
					}
					first[i].CompareAndSwap(0, v)
				}
				if !hit {
					misses.Add(1)
					continue
				}
				if hitAt[i].CompareAndSwap(0, int64(now)) && hitURLs.Add(1) == int64(*want*float64(n)+0.999) {
					reached.Store(int64(now))
					if *pass == "" {
						once.Do(func() { close(done) })
					}
				}
			}
		}()
	}
	if *pass == "" {
		select {
		case <-done:
		case <-time.After(*timeout - time.Since(start)):
			once.Do(func() { close(done) })
		}
	}
	wg.Wait()
	if *pass != "" {
		out, _ := os.Create(*pass)
		for i, u := range urls {
			if hitAt[i].Load() != 0 {
				fmt.Fprintln(out, u)
			}
		}
		out.Close()
		fmt.Printf("pass: %d of %d hits\n", hitURLs.Load(), n)
		return
	}
	firstHits, answered := 0, 0
	for i := range first {
		switch first[i].Load() {
		case 1:
			firstHits++
			answered++
		case 2:
			answered++
		}
	}
	warm := "not reached"
	if r := reached.Load(); r != 0 {
		warm = fmt.Sprintf("%d", time.Duration(r).Milliseconds())
	}
	fmt.Printf("warm_ms=%s up_ms=%d first_pass_hits=%d/%d requests=%d misses=%d conn_errors=%d slow=%d\n", warm,
		time.Duration(firstAnswer.Load()).Milliseconds(), firstHits, answered, requests.Load(), misses.Load(), errs.Load(), slow.Load())
}
GO
(cd "$work/warmclock-src" && go build -o ../warmclock .)

mkdir -p "$work/www" "$work/ngx-cache" "$work/shoal-disk"
head -c "$size" /dev/urandom >"$work/www/obj.bin"
port_origin=18410 port_nginx=18411 port_shoal=18412 port_admin=18413
cat >"$work/origin.conf" <<CONF
daemon off; master_process off; worker_processes 1; pid $work/origin.pid; error_log $work/origin.err;
events { worker_connections 4096; }
http { log_format plain '\$request'; access_log $work/origin.log plain; sendfile on;
  default_type application/octet-stream;
  server { listen 127.0.0.1:$port_origin; root $work/www;
    location /obj/ { try_files /obj.bin =404; expires 1h; } } }
CONF
cat >"$work/nginx.conf" <<CONF
daemon off; user root; worker_processes 1; pid $work/nginx.pid; error_log $work/nginx.err;
events { worker_connections 4096; }
http { access_log off; sendfile on;
  open_file_cache ${NGINX_OPEN_FILE_CACHE:-max=10000 inactive=20s}; open_file_cache_valid 30s; open_file_cache_min_uses 2;
  proxy_cache_path $work/ngx-cache levels=1:2 keys_zone=z:64m max_size=4g inactive=1h use_temp_path=off;
  server { listen 127.0.0.1:$port_nginx;
    location / { proxy_pass http://127.0.0.1:$port_origin; proxy_cache z; proxy_cache_valid 200 1h;
      add_header X-Cache-Status \$upstream_cache_status;
      proxy_http_version 1.1; proxy_set_header Connection ""; } } }
CONF
cat >"$work/shoal.yaml" <<CONF
node: {name: bench}
listen: {http: "127.0.0.1:$port_shoal", admin: "127.0.0.1:$port_admin"}
log: {access: "off", level: warn}
cache:
  memory: 16MiB
  max_object_size: 4MiB
  disk: {path: $work/shoal-disk, size: 4GiB, admit_frequency: -1}
origins: {o: {servers: [{url: "http://127.0.0.1:$port_origin"}]}}
routes: [{match: {path_prefix: /}, origin: o, cache: true}]
CONF
for port in $port_shoal $port_nginx; do
	for i in $(seq 0 $((objects - 1))); do echo "http://127.0.0.1:$port/obj/$i"; done >"$work/urls-$port"
done

taskset -c 0 nginx -c "$work/origin.conf" -p "$work" & pids+=($!)
start_shoal() {
	GOMAXPROCS=1 taskset -c 0 "$work/shoal" run -c "$work/shoal.yaml" 2>>"$work/shoal.err" &
	shoal_pid=$!
}
start_nginx() { taskset -c 0 nginx -c "$work/nginx.conf" -p "$work" & }
stop_nginx() {
	local p
	p=$(cat "$work/nginx.pid")
	kill -TERM "$p"
	while kill -0 "$p" 2>/dev/null; do sleep 0.01; done
}
wait_port() { for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return; sleep 0.05; done; }
origin_requests() { wc -l <"$work/origin.log"; }
clock() { taskset -c 1 "$work/warmclock" "$@"; }

fill() { # port header hit-word
	clock -urls "$work/urls-$1" -header "$2" -hit "$3" -pass "$work/none" >/dev/null
	clock -urls "$work/urls-$1" -header "$2" -hit "$3" -pass "$work/none" >/dev/null
	sleep 1 # Shoal's disk writes leave its queue
	clock -urls "$work/urls-$1" -header "$2" -hit "$3" -pass "$work/hits-$1" | sed 's/^/  pre-restart /'
}

mkdir -p bench-results
exec > >(tee "bench-results/disk-warm-$(date -u +%Y%m%dT%H%M%SZ).txt")
start_shoal; wait_port $port_shoal
start_nginx; wait_port $port_nginx
for _ in $(seq 100); do curl -s "http://127.0.0.1:$port_admin/stats.json" | grep -q '"state": "ready"' && break; sleep 0.1; done
echo "## $(df --output=fstype "$base" | tail -1) ($base): $objects objects of $size bytes, cache.memory 16 MiB"
echo "shoal:"; fill $port_shoal Cache-Status hit
echo "nginx:"; fill $port_nginx X-Cache-Status hit
printf '%-5s %-12s %8s %8s %12s %16s %10s %8s\n' round server up_ms warm_ms first_pass origin_requests requests slow_1s
for round in $(seq "$rounds"); do
	for run in shoal-term nginx shoal-kill; do
		case $run in
		shoal-*)
			sig=TERM
			[ "$run" = shoal-kill ] && sig=KILL
			kill -"$sig" "$shoal_pid"
			wait "$shoal_pid" 2>/dev/null || true
			o=$(origin_requests)
			t0=$(date +%s%N)
			start_shoal
			res=$(clock -urls "$work/hits-$port_shoal" -header Cache-Status -hit hit -since "$t0")
			;;
		nginx)
			stop_nginx
			o=$(origin_requests)
			t0=$(date +%s%N)
			start_nginx
			res=$(clock -urls "$work/hits-$port_nginx" -header X-Cache-Status -hit hit -since "$t0")
			;;
		esac
		warm=$(sed -n 's/.*warm_ms=\([^ ]*\).*/\1/p' <<<"$res")
		firstp=$(sed -n 's/.*first_pass_hits=\([^ ]*\).*/\1/p' <<<"$res")
		reqs=$(sed -n 's/.*requests=\([^ ]*\).*/\1/p' <<<"$res")
		up=$(sed -n 's/.*up_ms=\([^ ]*\).*/\1/p' <<<"$res")
		slow=$(sed -n 's/.*slow=\([^ ]*\).*/\1/p' <<<"$res")
		printf '%-5s %-12s %8s %8s %12s %16s %10s %8s\n' "$round" "$run" "$up" "$warm" "$firstp" "$(($(origin_requests) - o))" "$reqs" "$slow"
	done
done
