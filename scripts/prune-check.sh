#!/usr/bin/env bash
# Pruning check (issue 8; needs the npm registry, so it is not part of the default tests):
# installs fixtures/prune/a, then fixtures/prune/b over it, then `install --prod`, once with
# pnpm and once with tarn, each in its own temp project with its own store, and after every
# step compares the two node_modules listings (nm-tree --diff).
#   bash scripts/prune-check.sh
# Environment: TARN (default build/tarn), PNPM (default pnpm on PATH, else
# /work/tools-pnpm/node_modules/.bin/pnpm; should be pnpm 12.21), NM_TREE (default nm-tree on
# PATH, else /work/shared/tools/nm-tree), REPORTER (default silent; e.g. REPORTER=default to
# see both tools' output), KEEP=1 keeps the temp dir.
# Exit status: 1 if the layouts differed after any step.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
fx=$root/fixtures/prune

TARN=${TARN:-$root/build/tarn}
PNPM=${PNPM:-$(command -v pnpm || echo /work/tools-pnpm/node_modules/.bin/pnpm)}
NM_TREE=${NM_TREE:-$(command -v nm-tree || echo /work/shared/tools/nm-tree)}
REPORTER=${REPORTER:-silent}
for tool in "$TARN" "$PNPM" "$NM_TREE"; do
  [ -x "$tool" ] || { echo "prune-check: $tool is missing or not executable" >&2; exit 2; }
done

work=$(mktemp -d /tmp/tarn-prune.XXXXXX)
if [ "${KEEP:-}" = 1 ]; then echo "keeping $work"; else trap 'rm -rf "$work"' EXIT; fi
mkdir -p "$work/pnpm" "$work/tarn"

run_pnpm() {
  (cd "$work/pnpm" && "$PNPM" install --frozen-lockfile --ignore-scripts \
     --store-dir "$work/pnpm-store" --config.cacheDir="$work/cache" --reporter="$REPORTER" "$@")
}
run_tarn() {
  "$TARN" install --frozen-lockfile --ignore-scripts \
    --store-dir "$work/tarn-store" --dir "$work/tarn" --reporter="$REPORTER" "$@"
}

failed=0
compare() {  # compare STEP_NUMBER DESCRIPTION
  if "$NM_TREE" --diff "$work/pnpm" "$work/tarn" > "$work/step$1.diff"; then
    echo "step $1 ($2): same layout ($("$NM_TREE" "$work/pnpm" | wc -l) entries)"
  else
    echo "step $1 ($2): layout differs (- pnpm, + tarn):"
    head -40 "$work/step$1.diff"
    failed=1
  fi
}

step() {  # step STEP_NUMBER DESCRIPTION [install options...]
  local n=$1 what=$2; shift 2
  [ "$REPORTER" = silent ] || echo "== step $n ($what): pnpm"
  run_pnpm "$@"
  [ "$REPORTER" = silent ] || echo "== step $n ($what): tarn"
  run_tarn "$@"
  compare "$n" "$what"
}

for d in "$work/pnpm" "$work/tarn"; do
  cp "$fx/a/package.json" "$fx/a/pnpm-lock.yaml" "$fx/a/pnpm-workspace.yaml" "$d/"
done
step 1 "install lockfile A"

for d in "$work/pnpm" "$work/tarn"; do
  cp "$fx/b/package.json" "$fx/b/pnpm-lock.yaml" "$d/"
done
step 2 "install lockfile B over A"

step 3 "install --prod" --prod

exit $failed
