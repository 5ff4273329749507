#!/usr/bin/env bash
# HTTP/2 throughput of edge/h2 (a minimal in-memory handler) against nginx's http2 serving
# the same 1 KiB and 16 KiB files, measured with h2load: 64 connections, 1 and 10 streams
# each, over h2c and TLS. The server process (and nginx, its child) is pinned to core 0,
# h2load to core 1.
# Prints req/s (best of the runs) and the ratio; asserts nothing.
# Usage: scripts/h2load-h2.sh [seconds per run] [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v h2load >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nghttp2-client >/dev/null
  else
    echo "h2load-h2: h2load missing (apt-get install nghttp2-client)" >&2; exit 1
  fi
fi
bin=$(mktemp -d)/h2.test
trap 'rm -rf "$(dirname "$bin")"' EXIT
go test -c -o "$bin" ./edge/h2
H2LOAD_COMPARE=1 H2LOAD_DURATION="${1:-5}" H2LOAD_RUNS="${2:-1}" taskset -c 0 "$bin" -test.run 'TestH2load_vsNginx' -test.count=1 -test.v |
  grep -v -e '^=== RUN' -e '^PASS$'
