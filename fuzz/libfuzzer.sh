#!/usr/bin/env bash
# npm run fuzz:libfuzzer [-- SECONDS]: libFuzzer (with ASan) on the scalar wasm
# build translated to C by wasm2c. Installs wabt, clang and the libFuzzer
# runtime with apt-get when missing; builds and runs in fuzz/build/libfuzzer/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
out=fuzz/build/libfuzzer

if ! command -v wasm2c >/dev/null || ! command -v clang >/dev/null ||
   ! compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wabt clang libclang-rt-dev ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wabt clang "libclang-rt-$(clang --version | sed -n 's/.*version \([0-9]*\).*/\1/p')-dev"
fi

mkdir -p "$out/corpus"
wasm2c --module-name parser parser/wasm/simplenet-scalar.wasm -o "$out/parser.c"
runtime=$(dirname "$(dpkg -L wabt | grep 'wasm2c/wasm-rt-impl.c$' | head -n1)")
clang -O1 -g -fsanitize=fuzzer,address -I "$out" -I examples/c -I "$runtime" \
  fuzz/libfuzzer.c "$out/parser.c" "$runtime/wasm-rt-impl.c" -lm -o "$out/fuzz-parser"

# Seeds: the saved request corpus; libFuzzer adds what it finds to $out/corpus.
cp fuzz/corpus/request/* "$out/corpus/" 2>/dev/null || true
"$out/fuzz-parser" -max_total_time="$seconds" -max_len=4096 -dict=fuzz/http.dict \
  -artifact_prefix="fuzz/findings/libfuzzer-" -print_final_stats=1 "$out/corpus"
