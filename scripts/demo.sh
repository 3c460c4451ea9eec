#!/usr/bin/env bash
# The main job: install the demo project in fixtures/demo from the npm registry.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
rm -rf fixtures/demo/node_modules
./build/tarn install --frozen-lockfile -C fixtures/demo "$@"
