#!/usr/bin/env bash
# The whole test suite, in stages, each printing its wall time:
#   1. the default suite: unit tests per library, fuzz-corpus replays and end-to-end runs of
#      the binary against a loopback registry (no internet needed once packages are in);
#   2. crash safety (label slow): kill -9 at 100 random points, installs sharing a store;
#   3. the default suite again under ASan+UBSan;
#   4. each libFuzzer target for 60 s.
# TARN_CI_QUICK=1 stops after stage 1.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache hits across checkouts in other folders (paths are hashed relative to this one).
export CCACHE_BASEDIR="$PWD"
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)" -LE slow
echo "test.sh: default build and tests: ${SECONDS}s"
[ "${TARN_CI_QUICK:-0}" = 1 ] && exit 0
t=$SECONDS
ctest --test-dir build --output-on-failure -L slow
echo "test.sh: crash-safety tests: $((SECONDS - t))s"
t=$SECONDS
bash scripts/sanitize.sh address,undefined -LE slow
echo "test.sh: ASan+UBSan build and tests: $((SECONDS - t))s"
t=$SECONDS
bash scripts/fuzz.sh 60
echo "test.sh: fuzz build and 5 x 60 s fuzzing: $((SECONDS - t))s (total ${SECONDS}s)"
