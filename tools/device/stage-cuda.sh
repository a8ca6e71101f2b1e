#!/usr/bin/env bash
# Stages what the GPU machine needs to run the CUDA backend's tests and benchmarks (it has no
# Node project of its own): dist/, package.json, the test runner, the .cu kernel sources, the
# packaged assets (built-in configs, the embedded tiny model), the fixtures the CUDA tests read
# (tiny reference models, full-width reference) and a node_modules holding only the runtime
# dependencies (koffi and its linux-x64 binary).
#   tools/device/stage-cuda.sh <target dir> [--pack]      e.g. /work/main/.xfer/cuda
# --pack leaves only <target dir>/stage.tar.xz (about 12 MB; the device transfer is limited to
# 64 MiB with .device); unpack it there
# with `mkdir -p /tmp/cr && tar -xJf <target dir>/stage.tar.xz -C /tmp/cr`.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
target=${1:?usage: stage-cuda.sh <target dir> [--pack]}
pack=${2:-}
cd "$root"
npm run build >/dev/null
deps=$(mktemp -d)
cp package.json package-lock.json "$deps/"
(cd "$deps" && npm install --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null)
# koffi is an optional peer dependency (the CUDA backend's FFI): not in --omit=dev's tree.
cp -r node_modules/koffi "$deps/node_modules/koffi"
mkdir -p "$deps/node_modules/@koromix" && cp -r node_modules/@koromix/koffi-linux-x64 "$deps/node_modules/@koromix/"
rm -rf "$deps/node_modules/koffi/doc" "$deps/node_modules/koffi/vendor"
rm -rf "$target"
mkdir -p "$target/src/backend/cuda" "$target/scripts"
cp -r dist "$target/dist"
cp -r "$deps/node_modules" "$target/node_modules"
cp -r src/backend/cuda/kernels "$target/src/backend/cuda/kernels"
cp package.json "$target/"
cp scripts/run-tests.mjs "$target/scripts/"
cp -r assets "$target/assets"
mkdir -p "$target/test/fixtures"
cp -r test/fixtures/models test/fixtures/full-width "$target/test/fixtures/"
mkdir -p "$target/tools/device" && cp tools/device/*.sh tools/device/*.py "$target/tools/device/"
# The full-size checkpoint writer (load-bench.sh) and a few small images to prompt with.
mkdir -p "$target/tools/reference" && cp tools/reference/write_full_checkpoint.py "$target/tools/reference/"
# The FP8 torch reference and benchmark (fp8-bench.sh) and the modules they import.
cp tools/reference/{dummy_weights,full_width,fp8_reference,fp8_torch_bench}.py "$target/tools/reference/"
if [ -d test/fixtures/fp8 ]; then cp -r test/fixtures/fp8 "$target/test/fixtures/"; fi
mkdir -p "$target/test/fixtures/image" && cp -r test/fixtures/image/inputs "$target/test/fixtures/image/"
# STAGE_TEKKEN=<tekken.json>: ship it as <stage>/tekken.json (serve-bench.sh serves with it).
if [ -n "${STAGE_TEKKEN:-}" ]; then cp "$STAGE_TEKKEN" "$target/tekken.json"; fi
rm -rf "$deps"
if [ "$pack" = "--pack" ]; then
  rm -rf "$target/dist/cache"
  tmp=$(mktemp -d)
  tar -C "$target" -cJf "$tmp/stage.tar.xz" .
  rm -rf "$target" && mkdir -p "$target" && mv "$tmp/stage.tar.xz" "$target/" && rmdir "$tmp"
fi
du -sh "$target"
