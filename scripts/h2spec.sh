#!/usr/bin/env bash
# HTTP/2 conformance of Shoal's HTTPS listener with h2spec (a Go module: installed with
# `go install` when missing). Prints h2spec's summary. Usage: scripts/h2spec.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v h2spec >/dev/null || [ -x "$(go env GOPATH)/bin/h2spec" ] || go install github.com/summerwind/h2spec/cmd/h2spec@v2.6.0 || go install github.com/summerwind/h2spec/cmd/h2spec@latest
H2SPEC=$(command -v h2spec || echo "$(go env GOPATH)/bin/h2spec")
. scripts/tls-workdir.sh
echo "<html>h2spec</html>" > "$work/www/index.html"
cat > "$work/shoal.yaml" <<CONF
node: {name: h2spec}
listen: {https: "127.0.0.1:18443", admin: "127.0.0.1:18444"}
log: {access: "off", level: error}
tls: {certificates: [{cert: cert.pem, key: key.pem}]}
origins: {o: {servers: [{url: "http://127.0.0.1:18445"}]}}
routes: [{match: {path_prefix: /}, origin: o, cache: true}]
CONF
python3 -m http.server 18445 --bind 127.0.0.1 --directory "$work/www" >/dev/null 2>&1 &
bin/shoal run -c "$work/shoal.yaml" 2>"$work/shoal.err" &
sleep 1
"$H2SPEC" -t -k -h 127.0.0.1 -p 18443 "$@" | tail -n 40
