#!/usr/bin/env bash
# Compare tarn with pnpm, pacquet and bun on one fixture, plus the physical floors.
#   bash bench/run.sh [FIXTURE=alotta-modules] [RUNS=5]
#   SCENARIOS="hot utd" bash bench/run.sh ...   re-runs only those (the report reuses the rest)
# Scenarios, all on the fixture's pnpm-lock.yaml, scripts off, as a developer meets them:
#   cold        `rm -rf node_modules <store> <caches> && sync`, then install
#   fresh       the same plus a page-cache drop: a machine that never held the old store
#               ("fresh machine" row; the drop hides what the delete costs, see docs/design.md)
#   hot         warm store, `rm -rf node_modules && sync`, then install
#   up-to-date  nothing changed since the last install; beside `tarn --version` and /bin/true
#   clean       no lockfile, store or metadata cache: resolution, downloads and linking
#               (tarn, pnpm, bun; pacquet 0.11 cannot install without a lockfile). tarn and
#               pnpm run with minimumReleaseAge: 0 (bench/tools.sh make_clean_project)
# cold, fresh and hot run in rounds, one run per tool per round, the order rotated each
# round, so drift from run to run (the registry's speed, other load, inodes freed by the
# previous wipe) falls on every tool alike. Floors in the same rounds: curl --parallel
# --http1.1 of the same tarballs (network) and cp -al of the installed node_modules
# (linking). Results: bench/results/<fixture>-<date>.{md,json}.
set -euo pipefail
cd "$(dirname "$0")/.."
fixture=${1:-alotta-modules}
runs=${2:-5}
root=$PWD
work=$root/bench/work/$fixture
mkdir -p "$work" bench/results
source bench/tools.sh
ensure_tools
peers=(tarn pnpm pacquet bun)
for t in "${peers[@]}"; do make_project "$t" "$work/$t"; done
state() { echo "$work/state-$1"; }
cmd() { install_cmd "$1" "$work/$1" "$(state "$1")"; }

# A workspace fixture: a tool that cannot install it from the lockfile (fails, or leaves an
# importer without its dependencies) sits the run out, with a note in the results ("–").
: > "$work/notes.txt"
if [ -n "$(workspace_dirs)" ]; then
  kept=()
  for t in "${peers[@]}"; do
    if out=$(bash -c "$(cmd $t)" 2>&1); then out=$(installed_ok "$work/$t") && { kept+=("$t"); continue; }
    else out="exit $?: $(echo "$out" | grep . | tail -1)"; fi
    echo "$t: cannot install the workspace from its lockfile ($out)" | tee -a "$work/notes.txt" >&2
  done
  peers=("${kept[@]}")
fi
has_peer() { [[ " ${peers[*]} " == *" $1 "* ]]; }

drop=":"
if [ -w /proc/sys/vm/drop_caches ]; then drop="echo 3 > /proc/sys/vm/drop_caches"; fi
wipe_cold() { echo "rm -rf $(node_modules_of "$work/$1") $(state "$1") && sync"; }

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
curl_floor="curl -s --parallel --parallel-max 16 --http1.1 -K $work/urls.txt"

scenarios=" ${SCENARIOS:-cold fresh hot utd clean} "
if [[ $scenarios == *" cold "* ]]; then
  e=(); for t in "${peers[@]}"; do e+=("$t cold|$(wipe_cold $t)|$(cmd $t)"); done
  rounds cold "${e[@]}" "floor: curl download|sync|$curl_floor"
  # Peak memory of one more cold run each (hyperfine does not report it).
  : > "$work/rss.txt"
  for t in "${peers[@]}"; do
    bash -c "$(wipe_cold $t)"
    /usr/bin/time -f "$t %M" -a -o "$work/rss.txt" bash -c "$(cmd $t)" >/dev/null 2>&1 || true
  done
fi
if [[ $scenarios == *" fresh "* ]]; then
  e=(); for t in "${peers[@]}"; do e+=("$t cold, fresh machine|$(wipe_cold $t); $drop|$(cmd $t)"); done
  rounds fresh "${e[@]}" "floor: curl download, fresh machine|sync; $drop|$curl_floor"
fi
# Later scenarios need every tool's store and node_modules in place.
for t in "${peers[@]}"; do
  [ -d "$work/$t/node_modules" ] || bash -c "$(cmd $t)" >/dev/null
done
if [[ $scenarios == *" hot "* ]]; then
  e=(); for t in "${peers[@]}"; do e+=("$t hot|rm -rf $(node_modules_of "$work/$t") && sync|$(cmd $t)"); done
  floor_cp="cp -al $work/tarn/node_modules $work/cpal"
  # A workspace: every importer's node_modules, as the installs make them.
  [ -n "$(workspace_dirs)" ] && floor_cp="mkdir -p $work/cpal && cd $work/tarn && cp -al --parents $(node_modules_of . | sed "s|\./||g") $work/cpal"
  floors=("floor: cp -al|rm -rf $work/cpal && sync|$floor_cp")
  # The equal-work floor (bench/floor/floor.cpp): the same directories, symlinks, hard links
  # and shims as tarn's tree, made by a program that does only that (4 threads, its best
  # count in bench/results/floor-*). cp -al stays beside it: it hard-links symlinks and
  # shims instead of making them (4,077 fewer new inodes on alotta-modules).
  if [ -z "$(workspace_dirs)" ]; then
    [ -x "$root/build/bench/tarn-floor" ] || cmake --build "$root/build" --target tarn-floor >/dev/null
    "$root/build/bench/tarn-floor" record "$work/tarn/node_modules" "$(state tarn)/store" "$work/floor-manifest"
    floors+=("floor: minimal layout|rm -rf $work/floormk && sync|$root/build/bench/tarn-floor make $work/floor-manifest $work/floormk 4")
  fi
  rounds hot "${e[@]}" "${floors[@]}"
  rm -rf "$work/cpal" "$work/floormk"
fi
if [[ $scenarios == *" utd "* ]]; then
  args=()
  for t in "${peers[@]}"; do args+=(--command-name "$t up-to-date" "$(cmd $t)"); done
  hyperfine --warmup 2 --runs "$((runs * 4))" --export-json "$work/utd.json" "${args[@]}" >&2
  # Without a shell (-N), so that the floor is a bare process start.
  bin=${TARN_BIN:-$root/build/tarn}
  hyperfine -N --warmup 10 --runs "$((runs * 40))" --export-json "$work/utd-floor.json" \
    --command-name "tarn up-to-date, no shell" "$bin install --frozen-lockfile --ignore-scripts --dir $work/tarn --store-dir $(state tarn)/store --reporter=silent" \
    --command-name "tarn --version" "$bin --version" --command-name "floor: process start" "/bin/true" >&2
fi

if [[ $scenarios == *" clean "* ]]; then
  e=()
  for t in tarn pnpm bun; do
    has_peer "$t" || continue
    make_clean_project "$t" "$work/clean-$t"
    s="$work/state-clean-$t" p="$work/clean-$t"
    e+=("$t clean|rm -rf $(node_modules_of "$p") $p/pnpm-lock.yaml $p/bun.lock $s && sync|$(clean_cmd $t $p $s)")
  done
  rounds clean "${e[@]}"
  : > "$work/rss-clean.txt"
  for t in tarn pnpm bun; do
    has_peer "$t" || continue
    s="$work/state-clean-$t" p="$work/clean-$t"
    rm -rf $(node_modules_of "$p") "$p/pnpm-lock.yaml" "$p/bun.lock" "$s"; sync
    /usr/bin/time -f "$t %M" -a -o "$work/rss-clean.txt" bash -c "$(clean_cmd $t $p $s)" >/dev/null 2>&1 || true
  done
fi

out=bench/results/$fixture-$(date +%Y%m%d-%H%M)
python3 bench/report.py "$work" "$out" "$fixture" "$drop"
