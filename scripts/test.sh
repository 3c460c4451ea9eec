#!/usr/bin/env bash
# The whole default test suite: unit tests per library plus end-to-end runs of the binary
# against a loopback registry. Needs no internet once the packages are installed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)"

# Then the same suite under ASan+UBSan, and each libFuzzer target for a minute
# (TARN_CI_QUICK=1 stops after the default run). Each stage prints its wall time.
echo "test.sh: default build and tests: ${SECONDS}s"
[ "${TARN_CI_QUICK:-0}" = 1 ] && exit 0
t=$SECONDS
bash scripts/sanitize.sh address,undefined
echo "test.sh: ASan+UBSan build and tests: $((SECONDS - t))s"
t=$SECONDS
bash scripts/fuzz.sh 60
echo "test.sh: fuzz build and 5 x 60 s fuzzing: $((SECONDS - t))s (total ${SECONDS}s)"
