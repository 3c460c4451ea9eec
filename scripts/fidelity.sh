#!/usr/bin/env bash
# Real-registry fidelity check (needs the npm registry; not part of the default tests):
# installs each fixture with tarn into an empty store and compares the node_modules
# listing with pnpm 12.21's, kept as fixtures/<name>/pnpm-layout.txt.gz.
#   bash scripts/fidelity.sh [FIXTURE...]   (default: every fixture with a listing)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tarn=${TARN_BINARY:-$root/build/tarn}
[ -x "$tarn" ] || bash scripts/build.sh >/dev/null
work=$(mktemp -d /tmp/tarn-fidelity.XXXXXX)
trap 'rm -rf "$work"' EXIT
fixtures=("$@")
if [ ${#fixtures[@]} -eq 0 ]; then
  for f in fixtures/*/pnpm-layout.txt.gz; do fixtures+=("$(basename "$(dirname "$f")")"); done
fi
failed=0
for fx in "${fixtures[@]}"; do
  dir=$work/$fx
  mkdir -p "$dir"
  # The whole project (workspace packages included), without pnpm's listing or bun's lockfile.
  (cd "fixtures/$fx" && tar --exclude=node_modules --exclude=pnpm-layout.txt.gz --exclude=bun.lock -cf - .) | tar -xf - -C "$dir"
  chmod -R u+w "$dir"
  [ -f "$dir/pnpm-workspace.yaml" ] && sed -i '/^storeDir:/d' "$dir/pnpm-workspace.yaml"
  "$tarn" install --frozen-lockfile --ignore-scripts --store-dir "$work/store" --dir "$dir" --reporter=silent
  if diff -u <(zcat "fixtures/$fx/pnpm-layout.txt.gz") <(python3 scripts/layout-listing.py "$dir") > "$work/$fx.diff"; then
    echo "$fx: same layout as pnpm ($(zcat "fixtures/$fx/pnpm-layout.txt.gz" | wc -l) entries)"
  else
    echo "$fx: layout differs from pnpm:"; head -40 "$work/$fx.diff"; failed=1
  fi
done
exit $failed
