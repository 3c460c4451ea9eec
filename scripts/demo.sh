#!/usr/bin/env bash
# The main job: build tarn (quietly; the log goes to build/build.log) and install the demo
# project in fixtures/demo from the npm registry.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build
log=build/build.log
echo "Building tarn (log: $log)..."
if ! { bash scripts/setup-debian.sh && tbb=$(bash scripts/static-tbb.sh) &&
       cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DTARN_TBB_STATIC_ROOT="$tbb" &&
       cmake --build build --target tarn -j"$(nproc)"; } >"$log" 2>&1; then
  tail -40 "$log"
  echo "build failed; the whole log is in $log" >&2
  exit 1
fi
echo "Built $(pwd)/build/tarn (put it on PATH with: cmake --install build, which copies it to /usr/local/bin)"
rm -rf fixtures/demo/node_modules
./build/tarn install --frozen-lockfile -C fixtures/demo "$@"
