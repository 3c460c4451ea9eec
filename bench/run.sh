#!/usr/bin/env bash
# Compare tarn with pnpm, pacquet and bun on one fixture, plus the physical floors.
#   bash bench/run.sh [FIXTURE=alotta-modules] [RUNS=5]
#   SCENARIOS="hot utd" bash bench/run.sh ...   re-runs only those (the report reuses the rest)
# Scenarios, all on the fixture's pnpm-lock.yaml, scripts off:
#   cold        empty store and caches (each tool's own, and the kernel's page cache)
#   hot         warm store, no node_modules
#   up-to-date  nothing changed since the last install
# Floors in the same run: curl --parallel --http1.1 of the same tarballs (network) and
# cp -al of the installed node_modules (linking). Results: bench/results/<fixture>-<date>.{md,json}.
set -euo pipefail
cd "$(dirname "$0")/.."
fixture=${1:-alotta-modules}
runs=${2:-5}
root=$PWD
tools=$root/bench/tools
work=$root/bench/work/$fixture
mkdir -p "$tools" "$work" bench/results

need=()
for c in hyperfine curl python3 npm /usr/bin/time; do command -v "$c" >/dev/null || need+=("$c"); done
if [ ${#need[@]} -gt 0 ]; then
  bash scripts/setup-debian.sh
  apt-get install -y -qq hyperfine curl python3 npm time >/dev/null
fi
bash scripts/build.sh >/dev/null
if [ ! -x "$tools/node_modules/.bin/bun" ]; then
  npm install --prefix "$tools" --no-audit --no-fund pnpm@12.21.0 @pnpm/pacquet@0.11.11 bun@1.4.5 >&2
fi
pnpm=$tools/node_modules/.bin/pnpm
pacquet=$tools/node_modules/.bin/pacquet
bun=$tools/node_modules/.bin/bun

# One project copy per tool. pnpm gets minimumReleaseAge: 0: without it pnpm 12
# re-verifies every locked package's release age on each install.
for t in tarn pnpm pacquet bun; do
  rm -rf "$work/$t"; mkdir -p "$work/$t"
  cp fixtures/$fixture/package.json fixtures/$fixture/pnpm-lock.yaml "$work/$t/"
  [ -f fixtures/$fixture/pnpm-workspace.yaml ] && cp fixtures/$fixture/pnpm-workspace.yaml "$work/$t/"
  chmod -R u+w "$work/$t"
  sed -i '/^storeDir:/d' "$work/$t/pnpm-workspace.yaml" 2>/dev/null || true
done
printf '\nminimumReleaseAge: 0\n' >> "$work/pnpm/pnpm-workspace.yaml"
# bun reads its own lockfile: the committed one, migrated from the same pnpm-lock.yaml
# (`bun pm migrate`); for fixtures without one, migrated here.
if [ -f fixtures/$fixture/bun.lock ]; then
  cp fixtures/$fixture/bun.lock "$work/bun/"
else
  (cd "$work/bun" && "$bun" pm migrate >&2)
fi
rm -f "$work/bun/pnpm-lock.yaml"

store() { echo "$work/store-$1"; }
install_cmd() {
  case $1 in
    tarn) echo "$root/build/tarn install --frozen-lockfile --ignore-scripts --store-dir $(store tarn) --reporter=silent" ;;
    pnpm) echo "$pnpm install --frozen-lockfile --ignore-scripts --store-dir $(store pnpm) --config.cacheDir=$work/cache-pnpm --reporter=silent" ;;
    pacquet) echo "$pacquet install --frozen-lockfile --ignore-scripts" ;;
    bun) echo "env BUN_INSTALL_CACHE_DIR=$(store bun) $bun install --frozen-lockfile --ignore-scripts --linker=isolated --silent" ;;
  esac
}
# This machine's ext4 has no journal; there, allocating an inode scans past every inode
# freed in the last minute whose table block is still cached (fs/ext4/ialloc.c,
# recently_deleted). Right after an `rm -rf` of a 50,000-file store that scan doubles or
# triples any installer's time, by an amount that depends on what was deleted when.
# Dropping the page cache after the wipe removes it, for every tool alike, and is what
# "cold" means anyway. Where it is not permitted, runs are noisier.
drop=":"
if [ -w /proc/sys/vm/drop_caches ]; then drop="echo 3 > /proc/sys/vm/drop_caches"; fi
# Hot runs set node_modules aside instead of deleting it (no freed inodes, so no scan);
# the set-aside trees go once per command, before its warm-up run.
trash=$work/trash
setaside() { echo "mkdir -p $trash && mv $1 $trash/\$(date +%s%N) 2>/dev/null || true; sync"; }
cold_prep() {
  local extra=""
  [ "$1" = pacquet ] && extra="\$HOME/.local/share/pnpm/store \$HOME/.cache/pnpm"
  echo "rm -rf $work/$1/node_modules $(store $1) $work/cache-$1 $extra; sync; $drop"
}
# Once, before the first warm-up run (hyperfine 1.15 takes one --setup for all commands).
hot_setup() { echo "rm -rf $trash; sync; $drop"; }

scenarios=" ${SCENARIOS:-cold hot utd} "
args=()
for t in tarn pnpm pacquet bun; do
  args+=(--command-name "$t cold" --prepare "$(cold_prep $t)" "cd $work/$t && $(install_cmd $t)")
done
# Network floor: the same tarballs with curl, 16 parallel HTTP/1.1 connections.
python3 - "$root/fixtures/$fixture/pnpm-lock.yaml" > "$work/urls.txt" <<'PY'
import re,sys
seen=set()
for line in open(sys.argv[1]):
    m=re.match(r"^  '?((?:@[^/]+/)?[^@\s']+)@([^()\s':]+)'?:\s*$", line)
    if m:
        n,v=m.groups(); b=n.split('/')[-1]
        u=f"https://registry.npmjs.org/{n}/-/{b}-{v}.tgz"
        if u not in seen: seen.add(u); print(f'url = "{u}"\noutput = "/dev/null"')
PY
args+=(--command-name "floor: curl download" --prepare "sync; $drop" "curl -s --parallel --parallel-max 16 --http1.1 -K $work/urls.txt")
if [[ $scenarios == *" cold "* ]]; then
  hyperfine --runs "$runs" --export-json "$work/cold.json" "${args[@]}" >&2
  # Peak memory of one more cold run each (hyperfine does not report it).
  : > "$work/rss.txt"
  for t in tarn pnpm pacquet bun; do
    bash -c "$(cold_prep $t)"
    (cd "$work/$t" && /usr/bin/time -f "$t %M" -a -o "$work/rss.txt" bash -c "$(install_cmd $t)" >/dev/null 2>&1) || true
  done
fi
# Later scenarios need every tool's store and node_modules in place.
for t in tarn pnpm pacquet bun; do
  [ -d "$work/$t/node_modules" ] || (cd "$work/$t" && bash -c "$(install_cmd $t)" >/dev/null)
done

args=()
for t in tarn pnpm pacquet bun; do
  args+=(--command-name "$t hot" --prepare "$(setaside $work/$t/node_modules)" "cd $work/$t && $(install_cmd $t)")
done
args+=(--command-name "floor: cp -al" --prepare "$(setaside $work/cpal)" "cp -al $work/tarn/node_modules $work/cpal")
if [[ $scenarios == *" hot "* ]]; then
  hyperfine --setup "$(hot_setup)" --warmup 1 --runs "$runs" --export-json "$work/hot.json" "${args[@]}" >&2
  rm -rf "$trash"
fi

args=()
for t in tarn pnpm pacquet bun; do args+=(--command-name "$t up-to-date" "cd $work/$t && $(install_cmd $t)"); done
args+=(--command-name "floor: process start" "true")
if [[ $scenarios == *" utd "* ]]; then
  hyperfine --warmup 2 --runs "$((runs * 4))" --export-json "$work/utd.json" "${args[@]}" >&2
fi

out=bench/results/$fixture-$(date +%Y%m%d-%H%M)
python3 bench/report.py "$work" "$out" "$fixture" "$drop"
