#!/usr/bin/env bash
# Installs what the integration tests run against: nginx (origins), iproute2 (VIP tests in
# network namespaces), chromium (the admin /stats page rendered headless). On a machine where
# apt-get cannot run, it says what is missing; the tests themselves then skip with a message,
# or fail when CI=true.
set -u
need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "test-deps: missing ${need[*]} and not root: install them, or tests that need them will skip" >&2
  [ "${CI:-}" = "true" ] && exit 1
  exit 0
fi
echo "test-deps: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
status=$?
if [ $status -ne 0 ]; then
  echo "test-deps: apt-get install ${need[*]} failed" >&2
  [ "${CI:-}" = "true" ] && exit 1
fi
# Debian starts the packaged nginx on port 80; the tests run their own.
if [[ " ${need[*]} " == *" nginx-light "* ]] && command -v systemctl >/dev/null 2>&1; then
  systemctl stop nginx >/dev/null 2>&1 || true
fi
exit 0
