#!/usr/bin/env bash
# The test suite under sanitizers.
#   bash scripts/sanitize.sh                    ASan+UBSan: build-asan/, the whole ctest suite
#   bash scripts/sanitize.sh thread             TSan: build-tsan/, the tests that run threads
# Any finding aborts the process, so it fails its test. Extra arguments go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-address,undefined}
[ $# -gt 0 ] && shift
case $kind in
  address,undefined | address | undefined) dir=build-asan ;;
  thread) dir=build-tsan ;;
  *) echo "usage: sanitize.sh [address,undefined|thread] [ctest args]"; exit 2 ;;
esac
bash scripts/setup-debian.sh
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
mkdir -p "$dir"
log=$dir/build.log
if ! { cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTARN_SANITIZE="$kind" &&
       cmake --build "$dir" -j"$(nproc)"; } >"$log" 2>&1; then
  cat "$log"; echo "sanitize.sh: the $kind build failed"; exit 1
fi

# hard_rss_limit_mb: a runaway allocation fails its test instead of exhausting the machine.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:hard_rss_limit_mb=4096
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
[ -f scripts/tsan.supp ] && TSAN_OPTIONS+=":suppressions=$PWD/scripts/tsan.supp"
# A sanitized tarn reserves terabytes of shadow address space at start-up, so the e2e
# hostile-tarball runs cannot put it under `prlimit --as` (the normal build still does).
# This stand-in prlimit drops the address-space limit and runs the rest of its command.
shim=$PWD/$dir/sanitizer-shims
mkdir -p "$shim"
cat >"$shim/prlimit" <<'SHIM'
#!/bin/sh
while [ $# -gt 0 ]; do
  case $1 in --as=*) shift ;; *) break ;; esac
done
exec "$@"
SHIM
chmod +x "$shim/prlimit"
export PATH=$shim:$PATH

if [ "$kind" = thread ]; then
  # The threads TSan can see: the fetcher's network thread (Asio is header-only, so
  # instrumented) against its callers and the test registry (net), and threads committing
  # and repairing one store entry at once (tarball, which holds the store tests). Not the
  # TBB users (lockfile, linker, e2e's tarn): Debian's libtbb is not instrumented, so every
  # task handed to a worker reports a race on its own captures; suppressing those would
  # suppress every parallel_for body, which is not a TSan run any more.
  ctest --test-dir "$dir" --output-on-failure -j"$(nproc)" -R '^(net|tarball):' "$@"
else
  ctest --test-dir "$dir" --output-on-failure -j"$(nproc)" "$@"
fi
