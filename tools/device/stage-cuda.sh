#!/usr/bin/env bash
# Stages what the GPU machine needs to run the CUDA backend's tests and benchmarks (it has no
# Node project of its own): dist/, package.json, the test runner, the .cu kernel sources and a
# node_modules holding only the runtime dependencies (koffi and its linux-x64 binary).
#   tools/device/stage-cuda.sh <target dir>      e.g. /work/main/.xfer/cuda
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
target=${1:?usage: stage-cuda.sh <target dir>}
cd "$root"
npm run build >/dev/null
deps=$(mktemp -d)
cp package.json package-lock.json "$deps/"
(cd "$deps" && npm install --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null)
rm -rf "$deps/node_modules/koffi/doc" "$deps/node_modules/koffi/vendor"
rm -rf "$target"
mkdir -p "$target/src/backend/cuda" "$target/scripts"
cp -r dist "$target/dist"
cp -r "$deps/node_modules" "$target/node_modules"
cp -r src/backend/cuda/kernels "$target/src/backend/cuda/kernels"
cp package.json "$target/"
cp scripts/run-tests.mjs "$target/scripts/"
rm -rf "$deps"
du -sh "$target"
