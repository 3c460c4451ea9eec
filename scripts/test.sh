#!/usr/bin/env bash
# The whole default test suite: unit tests per library plus end-to-end runs of the binary
# against a loopback registry. Needs no internet once the packages are installed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)" -LE slow
# Crash safety: 100 kill -9s at random points and concurrent installs into one store.
# Minutes, not seconds: run explicitly, after the default suite.
ctest --test-dir build --output-on-failure -L slow
