#!/usr/bin/env bash
# Real-registry resolution check (needs the npm registry; not part of the default tests):
# for each fixture, its package.json (and pnpm-workspace.yaml) without the lockfile, then
# `tarn install --lockfile-only` and `pnpm install --lockfile-only` back to back, each with
# an empty metadata cache, and the two lockfiles compared byte for byte.
#   bash scripts/resolve-fidelity.sh [FIXTURE...]   (default: the five shared fixtures)
# PNPM overrides pnpm's path. Prints each tool's wall time and the number of differing lines.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tarn=${TARN_BINARY:-$root/build/tarn}
pnpm=${PNPM:-/work/tools-pnpm/node_modules/.bin/pnpm}
[ -x "$tarn" ] || bash scripts/build.sh >/dev/null
work=$(mktemp -d /tmp/tarn-resolve-fidelity.XXXXXX)
trap 'rm -rf "$work"' EXIT
fixtures=("$@")
[ ${#fixtures[@]} -gt 0 ] || fixtures=(alotta-modules angular-quickstart ember-quickstart medium-size-app react-app)
failed=0
now() { date +%s.%N; }
for fx in "${fixtures[@]}"; do
  for tool in tarn pnpm; do
    d=$work/$fx-$tool
    mkdir -p "$d"
    cp "fixtures/$fx/package.json" "$d/"
    if [ -f "fixtures/$fx/pnpm-workspace.yaml" ]; then
      grep -v '^storeDir:' "fixtures/$fx/pnpm-workspace.yaml" > "$d/pnpm-workspace.yaml"
    fi
  done
  t0=$(now)
  (cd "$work/$fx-tarn" && env -u CI XDG_CACHE_HOME="$work/tarn-cache-$fx" "$tarn" install --lockfile-only \
      --store-dir "$work/store" --reporter=silent)
  t1=$(now)
  (cd "$work/$fx-pnpm" && env -u CI XDG_CACHE_HOME="$work/pnpm-cache-$fx" "$pnpm" install --lockfile-only \
      --store-dir "$work/pnpm-store" --reporter=silent)
  t2=$(now)
  n=$(diff "$work/$fx-tarn/pnpm-lock.yaml" "$work/$fx-pnpm/pnpm-lock.yaml" | grep -c '^[<>]' || true)
  printf '%s: tarn %.2f s, pnpm %.2f s, %s of %s lines differ\n' "$fx" "$(echo "$t1 - $t0" | bc)" \
    "$(echo "$t2 - $t1" | bc)" "$n" "$(wc -l < "$work/$fx-pnpm/pnpm-lock.yaml")"
  if [ "$n" != 0 ]; then
    diff "$work/$fx-tarn/pnpm-lock.yaml" "$work/$fx-pnpm/pnpm-lock.yaml" | head -${DIFF_LINES:-20} || true
    mkdir -p /tmp/resolve-fidelity && cp "$work/$fx-tarn/pnpm-lock.yaml" "/tmp/resolve-fidelity/$fx.tarn.yaml" &&
      cp "$work/$fx-pnpm/pnpm-lock.yaml" "/tmp/resolve-fidelity/$fx.pnpm.yaml"
    failed=1
  fi
done
exit $failed
