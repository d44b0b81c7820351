#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine (run as root): installs what the tests need
# (clang-19/llvm-19 for the disassembler-vs-llvm-objdump tests, gcc + libbpf-dev for the differential
# tests against the running kernel, npm packages), type-checks, lints, runs every vitest suite, the
# conformance suite through the CLI and a reduced benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v clang-19 >/dev/null 2>&1 || need_apt+=(clang-19)
command -v llvm-objdump-19 >/dev/null 2>&1 || need_apt+=(llvm-19)
command -v wasm-ld-19 >/dev/null 2>&1 || need_apt+=(lld-19)
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc)
[ -f /usr/include/bpf/bpf.h ] || need_apt+=(libbpf-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "== installing Debian packages: ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "== not root: cannot install ${need_apt[*]}; tests that need them will be skipped with a notice"
  fi
fi

echo "== npm ci"
npm ci --no-audit --no-fund

echo "== type check"
npx tsc --noEmit

echo "== lint"
npm run --silent lint

echo "== conformance through the CLI"
npx bpfbox conformance ../shared/bpf_conformance/tests
npx bpfbox conformance ../shared/bpf_conformance/tests --engine jit

echo "== benchmark (reduced)"
npm run --silent bench -- --quick --out "$(mktemp -d)"
npm run --silent bench:load -- --quick --out "$(mktemp -d)"
npm run --silent bench:jit -- --quick
npm run --silent bench:kernels -- --quick --out "$(mktemp -d)"
npm run --silent bench:verify -- --quick --out "$(mktemp -d)"

echo "== unit, property and integration tests"
node scripts/vitest-summary.mjs
