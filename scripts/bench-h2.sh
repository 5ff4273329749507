#!/usr/bin/env bash
# What HTTP/2 costs: cache hits of one 1 KiB object over plain HTTP/1.1, HTTP/1.1 over TLS
# (fasthttp) and HTTP/2 over TLS (net/http adapted onto the same pipeline), all measured with
# h2load (Debian's nghttp2-client) so the client is the same. Server on core 0, h2load on core 1.
# Usage: scripts/bench-h2.sh [requests]
set -euo pipefail
cd "$(dirname "$0")/.."
requests="${1:-200000}"
command -v h2load >/dev/null || { apt-get update -qq && apt-get install -y -qq nghttp2-client >/dev/null; }
. scripts/tls-workdir.sh
head -c 1024 /dev/urandom > "$work/www/1k.bin"
cat > "$work/shoal.yaml" <<CONF
node: {name: h2bench}
listen: {http: "127.0.0.1:18500", https: "127.0.0.1:18501", admin: "127.0.0.1:18502"}
log: {access: "off", level: error}
tls: {certificates: [{cert: cert.pem, key: key.pem}]}
origins: {o: {servers: [{url: "http://127.0.0.1:18503"}]}}
routes: [{match: {path_prefix: /}, origin: o, cache: true}]
CONF
cat > "$work/origin.conf" <<CONF
daemon off; master_process off; worker_processes 1; pid $work/o.pid; error_log $work/o.err;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:18503; root $work/www; location / { expires 1h; } } }
CONF
nginx -p "$work" -c "$work/origin.conf" &
taskset -c 0 bin/shoal run -c "$work/shoal.yaml" 2>"$work/shoal.err" &
sleep 1
curl -s -o /dev/null http://127.0.0.1:18500/1k.bin; curl -sk -o /dev/null https://localhost:18501/1k.bin
run() { # label, h2load args...
  local label=$1; shift
  local out; out=$(taskset -c 1 h2load -n "$requests" -c 64 -t 1 "$@" 2>&1)
  printf '%-26s %s\n' "$label" "$(grep -E '^finished in' <<<"$out" | sed 's/finished in [^,]*, //') | $(grep -E '^time for request' <<<"$out" | awk '{print "mean " $6 ", sd " $7}')"
}
echo "1 KiB cache hits, $requests requests, 64 connections, h2load -t1 (server core 0, client core 1)"
run "http/1.1 plain"   --h1 http://127.0.0.1:18500/1k.bin
run "http/1.1 over TLS" --h1 https://localhost:18501/1k.bin
run "http/2 over TLS"  https://localhost:18501/1k.bin
run "http/2 over TLS, -m 10" -m 10 https://localhost:18501/1k.bin
