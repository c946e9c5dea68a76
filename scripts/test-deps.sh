#!/usr/bin/env bash
# Debian packages some tests drive for real: nginx (with its stream module,
# for the PROXY protocol) and chromium (the parser in a browser).
# Installs what is missing; a test whose peer cannot be installed says so.
set -u
need=()
command -v nginx >/dev/null 2>&1 || need+=(nginx-light)
dpkg -s libnginx-mod-stream >/dev/null 2>&1 || need+=(libnginx-mod-stream)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "test-deps: not root, cannot install ${need[*]}"
  exit 0
fi
echo "test-deps: installing ${need[*]}"
apt-get update -qq >/dev/null 2>&1
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 \
  || echo "test-deps: could not install ${need[*]}"
exit 0
