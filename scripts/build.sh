#!/usr/bin/env bash
# Configures and builds tarn (Release, Ninja, ccache when present) into ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache hits across checkouts in other folders (paths are hashed relative to this one).
export CCACHE_BASEDIR="$PWD"
bash scripts/setup-debian.sh
tbb=$(bash scripts/static-tbb.sh)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DTARN_WERROR=ON -DTARN_TBB_STATIC_ROOT="$tbb" >/dev/null
cmake --build build -j"$(nproc)"
