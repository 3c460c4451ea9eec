#!/usr/bin/env bash
# Runs tarn's libFuzzer targets (test/fuzz) with ASan+UBSan, each for SECONDS.
#   bash scripts/fuzz.sh SECONDS [TARGET...]     (targets: semver lockfile manifest config tarball packument)
# Builds build-fuzz/ (or $FUZZ_BUILD_DIR) with clang (-DTARN_FUZZ=ON -DTARN_SANITIZE=address,undefined). Each run
# starts from the committed corpus and regressions, keeps what it learns in
# build-fuzz/corpus/<target>/ (not committed) and writes crashes to build-fuzz/artifacts/<target>/.
# Fails when any target finds a crash, leak, timeout or UB. Runs under nice: the machine is shared.
set -euo pipefail
# One compound command: bash parses it whole, so editing this file during a long run is safe.
{
cd "$(dirname "$0")/.."
seconds=${1:?usage: fuzz.sh SECONDS [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(semver lockfile manifest config tarball packument)
bash scripts/setup-debian.sh clang libclang-rt-14-dev
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
bdir=${FUZZ_BUILD_DIR:-build-fuzz}
log=$bdir/build.log
mkdir -p "$bdir"
if ! { CC=clang CXX=clang++ cmake -S . -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
         -DTARN_FUZZ=ON -DTARN_SANITIZE=address,undefined &&
       cmake --build "$bdir" -j"$(nproc)" --target fuzzers; } >"$log" 2>&1; then
  cat "$log"; echo "fuzz.sh: the fuzz build failed"; exit 1
fi

# The longest input worth trying per target (bigger inputs only slow each execution).
declare -A max_len=([semver]=256 [lockfile]=40000 [manifest]=8192 [config]=4096 [tarball]=65536 [packument]=65536)
# A smaller quarantine and memory handed back to the system: over 10 minutes the ASan
# allocator's RSS otherwise creeps past -rss_limit_mb with no input to blame.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1:quarantine_size_mb=64:allocator_release_to_os_interval_ms=1000
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# One target: libFuzzer stops at its first finding, so with FUZZ_KEEP_GOING=1 (the long
# runs recorded in test/fuzz/README.md) it is restarted until its time is spent.
fuzz_one() {
  local t=$1 work=$bdir/corpus/$1 art=$bdir/artifacts/$1 out=$bdir/fuzz-$1.log
  local seeds=(test/fuzz/corpus/"$t") start left execs=0 n runs=0 found=0
  [ -d test/fuzz/regressions/"$t" ] && seeds+=(test/fuzz/regressions/"$t")
  rm -rf "$art" "$out"
  mkdir -p "$work" "$art"
  start=$(date +%s)
  while left=$((seconds - ($(date +%s) - start))); [ "$left" -gt 0 ] && [ "$runs" -lt 20 ]; do
    runs=$((runs + 1))
    nice -n 10 "$bdir"/test/fuzz/fuzz_"$t" "$work" "${seeds[@]}" -max_total_time="$left" \
      -max_len="${max_len[$t]}" -rss_limit_mb=512 -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$art/" >>"$out" 2>&1 || true
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out" | tail -1)
    execs=$((execs + ${n:-0}))
    # Restart only when this run stopped at a new finding, not when its time was up.
    [ "${FUZZ_KEEP_GOING:-0}" = 1 ] && [ "$(find "$art" -type f | wc -l)" -gt "$found" ] || break
    found=$(find "$art" -type f | wc -l)
    echo "=== restart after a finding" >>"$out"
  done
  found=$(find "$art" -type f | wc -l)
  echo "fuzz $t: $(($(date +%s) - start))s, $execs execs, corpus $(ls "$work" | wc -l), findings $found"
  if [ "$found" -gt 0 ] || ! grep -q '^stat::number_of_executed_units' "$out"; then
    # The first report: the sanitizer's or libFuzzer's summary and the top of its stack.
    grep -m1 -A24 'ERROR: \|runtime error: ' "$out" || tail -30 "$out"
    ls -d "$art"/*
    return 1
  fi
}

failed=0
for t in "${targets[@]}"; do
  fuzz_one "$t" || failed=1
done
exit $failed
}
