#!/usr/bin/env bash
# tarn's hot install beside its linking floor (issue 9), in interleaved, rotated rounds:
#   bash bench/floor.sh [FIXTURE=alotta-modules] [RUNS=5] [THREADS="2 4 8 16"]
#   SETTLED=1 bash bench/floor.sh ...   moves each old tree aside instead of deleting it
# Each round, after `rm -rf <tree> && sync`, one run each of
#   tarn hot        tarn install --frozen-lockfile, warm store (as bench/run.sh's hot)
#   floor xN        bench/floor/floor.cpp remaking the same node_modules from a recorded
#                   list of mkdir, symlink, link and (for .modules.yaml, lock.yaml and the
#                   .bin shims) plain writes, on N threads
#   cp -al          of a finished node_modules
# The template (a node_modules tarn made from the same store) and the floor's operation list
# are made once, outside the timing. Results: bench/results/floor-<fixture>-<date>.{md,json}.
# Why SETTLED: on this ext4 without a journal, the inode allocator skips inodes freed in the
# last 60 s (fs/ext4/ialloc.c recently_deleted(), a linear scan from the start of the group
# for each new inode), so right after `rm -rf node_modules` most of the kernel time of every
# run goes to that scan (perf: ~65% in recently_deleted/find_get_block_common). SETTLED=1
# shows the floor without it (the moved trees stay in $work/trash, deleted at the end).
# THREADS entries may name the floor's schedule: "4:levels" (default units, see floor.cpp).
set -euo pipefail
cd "$(dirname "$0")/.."
fixture=${1:-alotta-modules}
runs=${2:-5}
threads=${THREADS:-2 4 8 16}
root=$PWD
work=$root/bench/work/floor-$fixture
bin=${TARN_BIN:-$root/build/tarn}
floor=$root/build/bench/tarn-floor
mkdir -p "$work" bench/results
source bench/tools.sh
command -v hyperfine >/dev/null || apt-get install -y -qq hyperfine >/dev/null
[ -x "$floor" ] || cmake --build build --target tarn-floor >/dev/null
store=$work/state/store
tarn_cmd() { echo "cd $1 && $bin install --frozen-lockfile --ignore-scripts --store-dir $store --reporter=silent"; }
for p in tarn template; do
  [ -f "$work/$p/package.json" ] || make_project tarn "$work/$p"
  [ -d "$work/$p/node_modules" ] || bash -c "$(tarn_cmd "$work/$p")"
done
[ -f "$work/manifest" ] || "$floor" record "$work/template/node_modules" "$store" "$work/manifest"

wipe() { echo "rm -rf $1 && sync"; }
if [ -n "${SETTLED:-}" ]; then
  mkdir -p "$work/trash"
  wipe() { echo "mv $1 $work/trash/\$(date +%s%N) 2>/dev/null; sync"; }
fi
# Every run makes the same folder, $work/tarn/node_modules: after a delete, ext4's cost for
# new inodes depends on where the deleted tree's inodes were, so each tool making its own
# folder measures its own previous tree as much as itself (in separate folders the floor ran
# 1.2-1.7x slower than tarn in every set of rounds; alternating in one folder, level).
nm=$work/tarn/node_modules
entries=("tarn hot|$(wipe "$nm")|$(tarn_cmd "$work/tarn")")
for t in $threads; do
  entries+=("floor x${t/:/ }|$(wipe "$nm")|$floor make $work/manifest $nm ${t/:/ }")
done
entries+=("cp -al|$(wipe "$nm")|cp -al $work/template/node_modules $nm")

rounds round "${entries[@]}"

[ -n "${SETTLED:-}" ] && rm -rf "$work/trash"
out=bench/results/floor-$fixture${SETTLED:+-settled}-$(date +%Y%m%d-%H%M)
python3 - "$work" "$out" "$fixture" <<'PY'
import glob, json, statistics, sys
work, out, fixture = sys.argv[1:]
times = {}
for f in sorted(glob.glob(f"{work}/round-*.json")):
    for r in json.load(open(f))["results"]:
        times.setdefault(r["command"], []).append(r["mean"])
med = {k: statistics.median(v) for k, v in times.items()}
floors = {k: v for k, v in med.items() if k.startswith("floor")}
best = min(floors, key=floors.get)
settled = "settled" in out
lines = [f"# tarn hot vs the linking floor, {fixture}" + (" (old trees moved aside, not deleted)" if settled else ""), "",
         f"{len(times['tarn hot'])} interleaved rounds, order rotated; wall time, median (min-max).", "",
         "| run | median s | min | max | tarn / this |", "|---|---|---|---|---|"]
for k, v in times.items():
    lines.append(f"| {k} | {med[k]:.2f} | {min(v):.2f} | {max(v):.2f} | {med['tarn hot'] / med[k]:.2f}x |")
lines += ["", f"Best floor: {best}. tarn hot / floor = {med['tarn hot'] / med[best]:.2f}x "
          f"(issue 9 target: at most 1.1x); tarn hot / cp -al = {med['tarn hot'] / med['cp -al']:.2f}x."]
open(out + ".md", "w").write("\n".join(lines) + "\n")
json.dump({"fixture": fixture, "times": times, "median": med, "best_floor": best}, open(out + ".json", "w"), indent=1)
print("\n".join(lines))
PY
