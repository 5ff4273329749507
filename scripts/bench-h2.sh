#!/usr/bin/env bash
# HTTP/2 over TLS: Shoal next to nginx proxy_cache and HAProxy's cache, each caching the same
# origin (nginx) with the setup of scripts/bench/configs.sh (nginx bodies on a tmpfs, one
# worker or thread each), each speaking h2 on its TLS listener (ALPN h2). Workloads: cache
# hits of 1 KiB and 16 KiB with 1 and 10 streams per connection (h2load -m), 64 connections.
# Servers are pinned to core 0 and h2load to core 1; runs are interleaved across targets and
# rounds (the order rotates each round) so a busy machine hits every target alike. Prints
# req/s (median of the rounds), Shoal's ratio to each other target, each server's CPU time
# per response (its process's ticks over the run / responses: what a response costs whether
# or not h2load kept the server busy) and how busy h2load's core was (near 100%, the row
# measures h2load, not the server), the TLS suite, key exchange and SETTINGS each server
# negotiated, and the raw rows; asserts nothing. Varnish has no TLS listener and is left out.
# Every target gets the same h2load flags, so the same TLS 1.3 suite (--tls13-ciphers) and
# the same client windows; what the servers announce themselves (SETTINGS) is printed.
# Usage: [SECONDS_PER_RUN=5] [ROUNDS=3] [CONNECTIONS=64] [SHOAL_BASELINE=bin/shoal-old]
#        [TARGETS="shoal shoal-base"] [WORKLOADS="hit-1k-m10"] [TLS13_CIPHERS=...] scripts/bench-h2.sh
# SHOAL_BASELINE=<binary> adds shoal-base: that build of Shoal (say, the commit before a
# change, built with go build -o), configured as shoal, measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${SECONDS_PER_RUN:-5}
rounds=${ROUNDS:-3}
conns=${CONNECTIONS:-64}
suite=${TLS13_CIPHERS:-TLS_AES_128_GCM_SHA256}
targets=(nginx haproxy shoal)
workloads=(hit-1k-m1 hit-1k-m10 hit-16k-m1 hit-16k-m10)
# cpu_ticks, core_times and server_pids (over the pid_* variables below) are run.sh's, as is
# narrow_targets.
. scripts/bench/measure.sh
narrow_targets "shoal-base needs SHOAL_BASELINE"
if [ -n "${WORKLOADS:-}" ]; then read -r -a workloads <<<"$WORKLOADS"; fi
for w in "${workloads[@]}"; do
  case $w in
  hit-1k-m* | hit-16k-m*) ;;
  *) echo "WORKLOADS: unknown workload $w (hit-1k-mN or hit-16k-mN)" >&2; exit 2 ;;
  esac
done

missing=()
for pair in h2load:nghttp2-client nghttp:nghttp2-client perf:linux-perf haproxy:haproxy nginx:nginx-light curl:curl openssl:openssl taskset:util-linux; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair##*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! go build -o bin/shoal ./cmd/shoal; then
  [ -x bin/shoal ] || exit 1
  echo "warning: go build failed; benchmarking the existing bin/shoal" >&2
fi
. scripts/tls-workdir.sh # $work with cert.pem, key.pem, www/; stops the servers on exit
cat "$work/cert.pem" "$work/key.pem" >"$work/combined.pem"
if [ -d /dev/shm ]; then cache_dir=$(mktemp -d /dev/shm/shoal-bench-h2.XXXXXX); else cache_dir=$work/cache; fi
trap 'cleanup; rm -rf "$cache_dir"' EXIT
results="bench-results/bench-h2-$(date -u +%Y%m%dT%H%M%SZ).txt"
raw=$work/raw.tsv
mkdir -p bench-results

port_origin=18600 port_nginx=18601 port_haproxy=18602 port_shoal=18603 port_shoal_admin=18604
port_shoal_base=18605 port_shoal_base_admin=18606
head -c 1024 /dev/urandom >"$work/www/1k.bin"
head -c 16384 /dev/urandom >"$work/www/16k.bin"
cat >"$work/origin.conf" <<CONF
daemon off; master_process off; worker_processes 1; pid $work/origin.pid; error_log $work/origin.err;
events { worker_connections 8192; }
http { access_log off; keepalive_requests 1000000; sendfile on; default_type application/octet-stream;
  server { listen 127.0.0.1:$port_origin; root $work/www;
    location = /_status { stub_status; }
    location / { expires 1h; } } }
CONF
cat >"$work/nginx.conf" <<CONF
daemon off; master_process off; worker_processes 1; pid $work/nginx.pid; error_log $work/nginx.err;
events { worker_connections 8192; }
http { access_log off; keepalive_requests 1000000; sendfile on; tcp_nopush on;
  proxy_cache_path $cache_dir keys_zone=c:16m max_size=256m inactive=1h use_temp_path=off;
  upstream origin { server 127.0.0.1:$port_origin; keepalive 64; }
  server { listen 127.0.0.1:$port_nginx ssl http2;
    ssl_certificate $work/cert.pem; ssl_certificate_key $work/key.pem; ssl_protocols TLSv1.2 TLSv1.3;
    proxy_http_version 1.1; proxy_set_header Connection "";
    location / { proxy_pass http://origin; proxy_cache c; proxy_cache_valid 200 1h;
                 proxy_ignore_headers Set-Cookie; } } }
CONF
cat >"$work/haproxy.cfg" <<CONF
global
  nbthread 1
  maxconn 8000
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
cache c
  total-max-size 256
  max-object-size 2097152
  max-age 3600
frontend fe
  bind 127.0.0.1:$port_haproxy ssl crt $work/combined.pem alpn h2,http/1.1
  default_backend origin
backend origin
  http-reuse always
  http-request cache-use c
  http-response cache-store c
  server o 127.0.0.1:$port_origin maxconn 1000
CONF
. scripts/bench/h2shoal.sh
write_h2_shoal
sed -e "s/127.0.0.1:$port_shoal\"/127.0.0.1:$port_shoal_base\"/" \
  -e "s/127.0.0.1:$port_shoal_admin\"/127.0.0.1:$port_shoal_base_admin\"/" "$work/shoal.yaml" >"$work/shoal-base.yaml"

for p in $port_origin $port_nginx $port_haproxy $port_shoal $port_shoal_admin $port_shoal_base $port_shoal_base_admin; do
  if (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "bench-h2: port $p is already taken (another benchmark running?)" >&2
    exit 1
  fi
done
taskset -c 0 nginx -p "$work" -c "$work/origin.conf" &
taskset -c 0 nginx -p "$work" -c "$work/nginx.conf" &
pid_nginx=$!
taskset -c 0 haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
pid_haproxy=$!
taskset -c 0 bin/shoal run -c "$work/shoal.yaml" >/dev/null 2>"$work/shoal.err" &
pid_shoal=$!
ports=($port_origin $port_nginx $port_haproxy $port_shoal)
if [ -n "${SHOAL_BASELINE:-}" ]; then
  taskset -c 0 "$SHOAL_BASELINE" run -c "$work/shoal-base.yaml" >/dev/null 2>"$work/shoal-base.err" &
  pid_shoal_base=$!
  ports+=("$port_shoal_base")
fi
for p in "${ports[@]}"; do
  for _ in $(seq 100); do
    (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null && break
    sleep 0.1
  done
done

port_of() { local v="port_${1//-/_}"; echo "${!v}"; }
path_of() { case $1 in hit-1k-*) echo /1k.bin ;; hit-16k-*) echo /16k.bin ;; esac; }
streams_of() { echo "${1##*-m}"; }
origin_requests() { curl -s "http://127.0.0.1:$port_origin/_status" | awk 'NR == 3 {print $3}'; }

# Warm every object twice through every target, over h2, so the runs are hits.
for t in "${targets[@]}"; do
  for p in /1k.bin /16k.bin; do
    for _ in 1 2; do
      proto=$(curl -sk --http2 -o /dev/null -w '%{http_version}' "https://127.0.0.1:$(port_of "$t")$p")
      [ "$proto" = 2 ] || { echo "$t does not speak h2 on its TLS listener (got HTTP/$proto)" >&2; exit 1; }
    done
  done
done

# count_syscalls TARGET FILE counts the system calls of a target's server processes (every
# thread) for h2load's whole run (its warm-up second included, as the CPU ticks) into FILE,
# in the background; after `wait "$stat_pid"`, syscalls_counted FILE prints the count (0
# when perf could not count).
count_syscalls() {
  perf stat -x, -e raw_syscalls:sys_enter -p "$(server_pids "$1" | paste -sd,)" -o "$2" -- sleep "$((secs + 1))" 2>/dev/null &
  stat_pid=$!
}
syscalls_counted() {
  awk -F, '$3 == "raw_syscalls:sys_enter" {n = $1} END {print n + 0}' "$1" 2>/dev/null || echo 0
}

# What each server negotiates and announces, from one nghttp session: the TLS suite and key
# exchange (every target gets h2load's --tls13-ciphers), and its SETTINGS frame.
negotiated() {
  local out
  out=$(nghttp -nv "https://127.0.0.1:$(port_of "$1")/1k.bin" 2>&1 || true)
  printf '%-10s %s; %s\n' "$1" \
    "$(taskset -c 1 h2load -n1 -c1 --tls13-ciphers="$suite" "https://127.0.0.1:$(port_of "$1")/1k.bin" 2>&1 |
      awk -F': ' '/^Cipher:/ {c = $2} /^Server Temp Key:/ {k = $2} END {print c ", " k}')" \
    "$(awk '/recv SETTINGS frame/ && !/flags=0x01/ {on = 1; next}
      on && /^ *\[SETTINGS_/ {gsub(/[][(]|\):?/, " "); sub(/^SETTINGS_/, "", $1); printf "%s=%s ", $1, $NF; next}
      on && /^\[/ {on = 0}
      /recv WINDOW_UPDATE frame/ && /stream_id=0>/ {wu = 1; next}
      wu && /window_size_increment=/ {split($0, a, "="); printf "CONNECTION_WINDOW=%d ", 65535 + a[2]; wu = 0}' <<<"$out")"
}

# run_h2load URL STREAMS prints "rps succeeded failed header_bytes" for one run with h2load on
# core 1 (header_bytes: the HPACK-encoded response headers of the whole run, h2load's count).
run_h2load() {
  local out
  out=$(taskset -c 1 h2load -c "$conns" -t 1 -m "$2" -D "$secs" --warm-up-time=1 --tls13-ciphers="$suite" "$1" 2>&1) || true
  printf '%s\n' "$out" >>"$work/h2load.log"
  local rps ok failed hdr
  rps=$(awk '/^finished in/ {gsub(/,/, ""); print $4}' <<<"$out")
  ok=$(awk '/^requests:/ {print $8}' <<<"$out")
  failed=$(awk '/^requests:/ {print $10}' <<<"$out")
  hdr=$(awk '/^traffic:/ {gsub(/[()]/, ""); print $6}' <<<"$out")
  echo "${rps:-0} ${ok:-0} ${failed:-0} ${hdr:-0}"
}

for round in $(seq "$rounds"); do
  for w in "${workloads[@]}"; do
    for i in "${!targets[@]}"; do
      t=${targets[$(((i + round - 1) % ${#targets[@]}))]}
      before=$(origin_requests) cpu0=$(cpu_ticks "$t") load0=$(core_times 1)
      count_syscalls "$t" "$work/syscalls"
      m=$(run_h2load "https://127.0.0.1:$(port_of "$t")$(path_of "$w")" "$(streams_of "$w")")
      wait "$stat_pid" || true
      calls=$(syscalls_counted "$work/syscalls")
      after=$(origin_requests) cpu1=$(cpu_ticks "$t") load1=$(core_times 1)
      # h2load's warm-up second counts in the ticks but not in its requests: the run's
      # responses are scaled up by (secs+1)/secs in the report, see cpu_us below.
      loadpct=$(awk -v a="$load0" -v b="$load1" 'BEGIN {split(a, x, " "); split(b, y, " ");
        d = (y[1] - x[1]) + (y[2] - x[2]); printf "%.0f", (d > 0 ? 100 * (y[1] - x[1]) / d : 0)}')
      printf 'run\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$w" "$t" "$round" "${m// /	}" "$((after - before - 1))" \
        "$((cpu1 - cpu0))" "$loadpct" "$calls" >>"$raw"
    done
  done
done

{
  echo "HTTP/2 over TLS benchmark, $(date -u +%FT%TZ), $(nproc) cores: servers on core 0, h2load on core 1"
  echo "h2load -c$conns -t1 -m{1,10} -D${secs}s --warm-up-time=1 --tls13-ciphers=$suite, $rounds rounds interleaved (order rotated each round); cache hits"
  echo "versions: $(haproxy -v | head -1 | cut -d' ' -f1-3); $(nginx -v 2>&1 | cut -d' ' -f3);" \
    "shoal $(git describe --always --dirty 2>/dev/null || echo unknown); $(h2load --version | head -1)"
  echo
  awk -v secs="$secs" -v warm=1 -v targets="${targets[*]}" -v hz="$(getconf CLK_TCK)" -f scripts/bench/h2report.awk "$raw"
  echo
  echo "TLS and SETTINGS each server negotiated with h2load's and nghttp's flags (--tls13-ciphers=$suite;"
  echo "h2load's own windows: stream 2^30-1, connection 2^30-1):"
  for t in "${targets[@]}"; do negotiated "$t"; done
  echo
  echo "raw rows (run workload target round rps succeeded failed header_bytes origin_requests cpu_ticks load_core_busy_pct syscalls):"
  cat "$raw"
} >"$results"
cat "$results"
echo "results: $results"
