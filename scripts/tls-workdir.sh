# Sourced by the TLS measurement scripts: builds bin/shoal if missing, makes a work directory
# ($work) with a self-signed certificate for localhost (cert.pem, key.pem) and a www/ folder,
# and stops every background job and removes $work on exit.
[ -x bin/shoal ] || go build -o bin/shoal ./cmd/shoal
work=$(mktemp -d)
cleanup() { kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
mkdir -p "$work/www"
