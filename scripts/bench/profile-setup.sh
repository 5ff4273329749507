# profile-setup.sh is sourced by the profile scripts (profile-shoal.sh, profile-kernel.sh):
# perf installed, the Shoal binary built (SHOAL_BIN, default bin/shoal, for another build to
# compare), a work directory removed on exit with the origin and Shoal it started, and the
# shared config and measurement helpers. $1 names the work directory's prefix.
command -v perf >/dev/null || { apt-get update -qq && apt-get install -y -qq linux-perf >/dev/null; }
shoal_bin=${SHOAL_BIN:-bin/shoal}
[ -x "$shoal_bin" ] || go build -o "$shoal_bin" ./cmd/shoal
work=$(mktemp -d "/tmp/$1.XXXXXX")
cache_dir=$work/cache
mkdir -p bench-results
cleanup() {
  kill ${pid_origin:-} ${pid_shoal:-} 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
. "$here/configs.sh"
. "$here/measure.sh"
