#!/usr/bin/env bash
# Scaling: tarn on synthetic lockfiles with 1x, 5x and 10x alotta-modules' 1,352 packages,
# served by a loopback registry (bench/scale/synth.cpp). Reports cold and hot medians and
# cold peak RSS per size; growth should be linear.
#   bash bench/scale.sh [RUNS=3]
# Runs on tmpfs when /dev/shm exists: on this machine's journal-less ext4, inode
# allocation after deleting the previous run's store scans every recently freed inode,
# which grows with the square of the tree and would hide tarn's own growth.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
base=1352
bash scripts/build.sh >/dev/null
command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null
tarn=$PWD/build/tarn
synth=$PWD/build/bench/tarn-synth-registry
parent=/dev/shm; [ -d "$parent" ] && [ -w "$parent" ] || parent=${TMPDIR:-/tmp}
work=$(mktemp -d "$parent/tarn-scale.XXXXXX")
trap 'rm -rf "$work"' EXIT
out=bench/results/scale-$(date +%Y%m%d-%H%M)
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

rows=()
for factor in 1 5 10; do
  n=$((base * factor))
  proj=$work/p$factor
  mkdir -p "$proj"
  coproc SYNTH { "$synth" "$n" "$proj"; }
  read -r url <&"${SYNTH[0]}"
  install() { /usr/bin/time -f "%e %M" -a -o "$work/$1.txt" "$tarn" install --frozen-lockfile --dir "$proj" \
      --store-dir "$work/store$factor" --reporter=silent; }
  : > "$work/cold.txt"; : > "$work/hot.txt"
  for r in $(seq "$runs"); do
    rm -rf "$work/store$factor" "$proj/node_modules"; sync
    install cold
    rm -rf "$proj/node_modules"; sync
    install hot
  done
  files=$(find "$proj/node_modules/.pnpm" -type f | wc -l)
  cold=$(awk '{print $1}' "$work/cold.txt" | median)
  hot=$(awk '{print $1}' "$work/hot.txt" | median)
  rss=$(awk '{print $2}' "$work/cold.txt" | sort -n | tail -1)
  rows+=("$factor $n $files $cold $hot $rss")
  echo "x$factor: $n packages, $files files, cold ${cold}s, hot ${hot}s, cold peak RSS $((rss / 1024)) MB" >&2
  exec {SYNTH[1]}>&-
  wait "$SYNTH_PID" 2>/dev/null || true
  rm -rf "$work/store$factor" "$proj"
done

{
  echo "# Scaling on synthetic lockfiles ($(nproc) cores, $(findmnt -no FSTYPE -T "$work" | head -1), $(date -u +%Y-%m-%d), tarn $(git rev-parse --short HEAD))"
  echo
  echo "Loopback registry; medians of $runs runs. Per-package columns show linearity."
  echo
  echo "| size | packages | files | cold | hot | cold peak RSS | cold per package | hot per package |"
  echo "|---|---|---|---|---|---|---|---|"
  for row in "${rows[@]}"; do
    read -r f n files cold hot rss <<< "$row"
    awk -v f="$f" -v n="$n" -v files="$files" -v c="$cold" -v h="$hot" -v r="$rss" 'BEGIN {
      printf "| %sx | %d | %d | %.2f s | %.2f s | %d MB | %.2f ms | %.2f ms |\n", f, n, files, c, h, r / 1024, c * 1000 / n, h * 1000 / n }'
  done
} > "$out.md"
cat "$out.md"
