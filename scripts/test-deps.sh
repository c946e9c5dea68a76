#!/usr/bin/env bash
# Debian packages some tests drive for real: nginx (with its stream module,
# for the PROXY protocol), chromium (the parser in a browser) and python3-websockets (a WebSocket client).
# Installs what is missing (as root, with apt-get). Exits 0 only when all of
# them are there afterwards; otherwise it names each one it could not install
# and exits 1, so that CI stops on it instead of skipping those tests.
set -u

missing() {
  local need=()
  command -v nginx >/dev/null 2>&1 || need+=(nginx-light)
  dpkg -s libnginx-mod-stream >/dev/null 2>&1 || need+=(libnginx-mod-stream)
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  dpkg -s python3-websockets >/dev/null 2>&1 || need+=(python3-websockets)
  echo "${need[*]}"
}

need=$(missing)
[ -z "$need" ] && exit 0

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if [ "$(id -u)" -ne 0 ]; then
  echo "test-deps: not root, so cannot install: $need" >"$log"
elif ! command -v apt-get >/dev/null 2>&1; then
  echo "test-deps: no apt-get here, so cannot install: $need" >"$log"
else
  echo "test-deps: installing $need"
  # shellcheck disable=SC2086 # one word per package
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need; } >"$log" 2>&1
fi

still=$(missing)
[ -z "$still" ] && exit 0
{
  echo "================================================================"
  echo "test-deps: FAILED, still missing: $still"
  echo "The tests that need them are skipped (a failure under CI=true)."
  echo "Install them as root on Debian: apt-get install $still"
  echo "---- last lines of the attempt ----"
  tail -n 20 "$log"
  echo "================================================================"
} >&2
exit 1
