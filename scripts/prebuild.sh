#!/usr/bin/env bash
# The addon's binaries that go into the package (npm pack runs this as
# `prepack`): prebuilds/linux-x64/simplenet.glibc.node and
# prebuilds/linux-arm64/simplenet.glibc.node, made with prebuildify against
# N-API (one binary per platform serves every Node version) and loaded by
# node-gyp-build. prebuilds/ is git-ignored: git holds no binaries.
#
# linux-arm64 is cross-compiled with Debian's g++-aarch64-linux-gnu. musl
# (Alpine) gets no binary: Debian's musl-tools has a C compiler wrapper but no
# C++ standard library for musl, and the shim is C++ (node-addon-api). The
# binaries are tagged glibc, so on Alpine node-gyp-build passes them over and
# the install compiles the addon from source instead (scripts/install.js).
#
# Nothing is downloaded: node-gyp builds against the headers beside the
# running node (N-API's headers are the same for every architecture). The
# build runs in a temporary copy of binding.gyp and shim/, so the project's
# own build/ is left alone, and its result is kept in node_modules/.cache/
# under the hash of what it is made from: a second run with the same shim
# takes no time.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

source_hash=$(cat binding.gyp shim/* node_modules/node-addon-api/package.json scripts/prebuild.sh | sha256sum | cut -c1-16)
cache=node_modules/.cache/simplenet-prebuilds/$source_hash
targets=(linux-x64 linux-arm64)

if [ ! -f "$cache/linux-x64/simplenet.glibc.node" ] || [ ! -f "$cache/linux-arm64/simplenet.glibc.node" ]; then
  for tool in aarch64-linux-gnu-g++ aarch64-linux-gnu-strip; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "prebuild: $tool is missing (Debian: apt-get install g++-aarch64-linux-gnu)" >&2
      exit 1
    fi
  done
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cp -r binding.gyp shim "$work/"
  echo '{ "name": "simplenet" }' >"$work/package.json"
  # binding.gyp asks node-addon-api for its include folder; prebuildify finds node-gyp in node_modules/.bin.
  ln -s "$root/node_modules" "$work/node_modules"
  export npm_config_nodedir
  npm_config_nodedir=$(dirname "$(dirname "$(command -v node)")")
  prebuildify=$root/node_modules/prebuildify/bin.js
  (cd "$work" && node "$prebuildify" --napi --strip --tag-libc --arch x64)
  (cd "$work" && CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ PREBUILD_STRIP_BIN=aarch64-linux-gnu-strip \
    node "$prebuildify" --napi --strip --tag-libc --arch arm64)
  rm -rf "$cache"
  mkdir -p "$(dirname "$cache")"
  cp -r "$work/prebuilds" "$cache"
fi

rm -rf prebuilds
cp -r "$cache" prebuilds
for target in "${targets[@]}"; do
  echo "prebuild: prebuilds/$target/simplenet.glibc.node ($(stat -c %s "prebuilds/$target/simplenet.glibc.node") bytes)"
done
