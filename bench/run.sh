#!/usr/bin/env bash
# Compare tarn with pnpm, pacquet and bun on one fixture, plus the physical floors.
#   bash bench/run.sh [FIXTURE=alotta-modules] [RUNS=5]
# Scenarios: cold (empty store and caches), hot (warm store, no node_modules),
# up-to-date (nothing changed). Every tool wipes only its own folders and calls sync
# before each run. Results: bench/results/<fixture>-<date>.{md,json}.
set -euo pipefail
cd "$(dirname "$0")/.."
fixture=${1:-alotta-modules}
runs=${2:-5}
root=$PWD
tools=$root/bench/tools
work=$root/bench/work/$fixture
mkdir -p "$tools" "$work" bench/results
command -v hyperfine >/dev/null || bash scripts/setup-debian.sh
command -v hyperfine >/dev/null || apt-get install -y -qq hyperfine
bash scripts/build.sh >/dev/null
if [ ! -x "$tools/node_modules/.bin/pnpm" ]; then
  npm install --prefix "$tools" --no-audit --no-fund pnpm@12.21.0 @pnpm/pacquet@0.11.11 bun@1.4.5 >&2
fi
pnpm=$tools/node_modules/.bin/pnpm
pacquet=$tools/node_modules/.bin/pacquet
bun=$tools/node_modules/.bin/bun

# One project copy per tool; pnpm gets minimumReleaseAge: 0 for a like-for-like run.
for t in tarn pnpm pacquet bun; do
  rm -rf "$work/$t"; mkdir -p "$work/$t"
  cp fixtures/$fixture/package.json fixtures/$fixture/pnpm-lock.yaml "$work/$t/"
  [ -f fixtures/$fixture/pnpm-workspace.yaml ] && cp fixtures/$fixture/pnpm-workspace.yaml "$work/$t/"
  sed -i '/^storeDir:/d' "$work/$t/pnpm-workspace.yaml" 2>/dev/null || true
done
printf '\nminimumReleaseAge: 0\n' >> "$work/pnpm/pnpm-workspace.yaml"
[ -f fixtures/$fixture/bun.lock ] && cp fixtures/$fixture/bun.lock "$work/bun/"

store() { echo "$work/store-$1"; }
install_cmd() {
  case $1 in
    tarn) echo "$root/build/tarn install --frozen-lockfile --ignore-scripts --store-dir $(store tarn) --reporter=silent" ;;
    pnpm) echo "$pnpm install --frozen-lockfile --ignore-scripts --store-dir $(store pnpm) --config.cacheDir=$work/cache-pnpm --reporter=silent" ;;
    pacquet) echo "$pacquet install --frozen-lockfile --ignore-scripts" ;;
    bun) echo "env BUN_INSTALL_CACHE_DIR=$(store bun) $bun install --frozen-lockfile --ignore-scripts --linker=isolated --silent" ;;
  esac
}
cold_prep() { echo "rm -rf $work/$1/node_modules $(store $1) $work/cache-$1 \$HOME/.cache/pnpm \$HOME/.local/share/pnpm/store; sync"; }
hot_prep() { echo "rm -rf $work/$1/node_modules; sync"; }

args=()
for t in tarn pnpm pacquet bun; do
  cmd=$(install_cmd $t)
  args+=(--command-name "$t cold" --prepare "$(cold_prep $t)" "cd $work/$t && $cmd")
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
args+=(--command-name "floor: curl download" "curl -s --parallel --parallel-max 16 --http1.1 -K $work/urls.txt")
hyperfine -N --runs "$runs" --export-json "$work/cold.json" "${args[@]}" >&2 || hyperfine --runs "$runs" --export-json "$work/cold.json" "${args[@]}" >&2

args=()
for t in tarn pnpm pacquet bun; do
  args+=(--command-name "$t hot" --prepare "$(hot_prep $t)" "cd $work/$t && $(install_cmd $t)")
done
args+=(--command-name "floor: cp -al" --prepare "rm -rf $work/cpal; sync" "cp -al $work/tarn/node_modules $work/cpal")
hyperfine --runs "$runs" --export-json "$work/hot.json" "${args[@]}" >&2

args=()
for t in tarn pnpm pacquet bun; do args+=(--command-name "$t up-to-date" "cd $work/$t && $(install_cmd $t)"); done
args+=(--command-name "floor: process start" "true")
hyperfine --warmup 2 --runs "$((runs * 4))" --export-json "$work/utd.json" "${args[@]}" >&2

out=bench/results/$fixture-$(date +%Y%m%d-%H%M)
python3 - "$work" "$out" "$fixture" <<'PY'
import json,sys,platform,os,subprocess
work,out,fixture=sys.argv[1:]
rows=[]
for sc in ("cold","hot","utd"):
    for r in json.load(open(f"{work}/{sc}.json"))["results"]:
        rows.append({"scenario":{"utd":"up-to-date"}.get(sc,sc),"command":r["command"],"median_s":r["median"],"mean_s":r["mean"],"stddev_s":r.get("stddev"),"max_rss_kb":None})
cpu=subprocess.run("lscpu | grep 'Model name' | cut -d: -f2",shell=True,capture_output=True,text=True).stdout.strip()
meta={"fixture":fixture,"cpus":os.cpu_count(),"cpu":cpu,"kernel":platform.release()}
json.dump({"machine":meta,"results":rows},open(out+".json","w"),indent=2)
with open(out+".md","w") as f:
    f.write(f"# {fixture} on {meta['cpus']} cores ({cpu}), medians\n\n| scenario | command | median | tarn / this |\n|---|---|---|---|\n")
    for sc in ("cold","hot","up-to-date"):
        t=[r for r in rows if r["scenario"]==sc and r["command"].startswith("tarn")][0]["median_s"]
        for r in [r for r in rows if r["scenario"]==sc]:
            f.write(f"| {sc} | {r['command']} | {r['median_s']*1000:.0f} ms | {t/r['median_s']:.2f} |\n")
print(open(out+".md").read())
PY
