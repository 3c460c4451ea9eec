#!/usr/bin/env bash
# What a preceding delete costs each tool: a cold install on a fresh ext4 image made like
# this machine's root filesystem (no journal, mounted with discard), then cold installs
# right after `rm -rf <store> <caches> node_modules && sync` of the previous one.
#   bash bench/after-delete.sh [FIXTURE=alotta-modules] [AFTER=2] [TOOL...]
#   TARN_BASE=/path/to/old/tarn bash bench/after-delete.sh alotta-modules 2 tarn-base tarn pnpm pacquet bun
# One image per tool, tools in rotated order each round. Reports wall, user and system
# time (system time is what the delete adds; wall also carries the registry's noise) and
# where the store's inodes landed: flex groups used and the share of the busiest one.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
fixture=${1:-alotta-modules}
after=${2:-2}
shift $(( $# > 2 ? 2 : $# ))
list=("$@"); [ ${#list[@]} -gt 0 ] || list=(tarn pnpm pacquet bun)
source bench/tools.sh
ensure_tools
work=$root/bench/work/after-delete
mkdir -p "$work"
out=bench/results/after-delete-$fixture-$(date +%Y%m%d-%H%M)
cleanup() { for t in "${list[@]}"; do umount "$work/mnt-$t" 2>/dev/null || true; rm -f "$work/$t.img"; done; }
trap cleanup EXIT
for t in "${list[@]}"; do
  umount "$work/mnt-$t" 2>/dev/null || true
  rm -f "$work/$t.img"; truncate -s 256G "$work/$t.img"
  mkfs.ext4 -q -F -O ^has_journal "$work/$t.img"
  mkdir -p "$work/mnt-$t"; mount -o loop,discard,noinit_itable "$work/$t.img" "$work/mnt-$t"
  make_project "${t%%-*}" "$work/mnt-$t/p"
done
ipg=$(dumpe2fs -h "$work/${list[0]}.img" 2>/dev/null | awk -F: '/Inodes per group/ {print $2+0}')
flex=$(dumpe2fs -h "$work/${list[0]}.img" 2>/dev/null | awk -F: '/Flex block group size/ {print $2+0}')
# Flex groups holding the state's inodes, and the busiest one's share.
placement() {
  find "$1" -printf '%i\n' | awk -v d=$((ipg * flex)) '{c[int(($1-1)/d)]++} END {m=0; n=0; for (g in c) {n++; if (c[g]>m) {m=c[g]; mg=g}}; printf "%d inodes, %d flex groups, busiest f%d %.0f%%", NR, n, mg, 100*m/NR}'
}
: > "$work/times.txt"
for round in $(seq 0 "$after"); do
  n=${#list[@]}
  for k in $(seq 0 $((n - 1))); do
    t=${list[$(( (k + round) % n ))]}; m=$work/mnt-$t
    kind=after-delete; [ "$round" = 0 ] && kind=fresh
    rm -rf "$m/state" "$m/p/node_modules"; sync
    /usr/bin/time -f "%e %U %S" -o "$work/one.txt" bash -c "$(install_cmd "$t" "$m/p" "$m/state")" >/dev/null 2>&1 || echo "$t failed" >&2
    echo "$t $kind $(cat "$work/one.txt") $(placement "$m/state")" | tee -a "$work/times.txt" >&2
  done
done
python3 - "$work/times.txt" "$fixture" > "$out.md" <<'PY'
import sys, statistics as st
rows = {}
for line in open(sys.argv[1]):
    t, kind, wall, user, sys_, *place = line.split(maxsplit=5)
    rows.setdefault(t, {}).setdefault(kind, []).append((float(wall), float(user), float(sys_), place[0].strip() if place else ""))
print(f"# Cold after a delete, {sys.argv[2]}: fresh ext4 image vs right after `rm -rf ... && sync`\n")
print("| tool | fresh wall | fresh sys | after-delete wall (median) | after-delete sys (median) | sys after / fresh | store placement (last run) |")
print("|---|---|---|---|---|---|---|")
for t, k in rows.items():
    f, a = k["fresh"][0], k.get("after-delete", [])
    aw = st.median(x[0] for x in a) if a else float("nan")
    asys = st.median(x[2] for x in a) if a else float("nan")
    print(f"| {t} | {f[0]:.2f} s | {f[2]:.2f} s | {aw:.2f} s | {asys:.2f} s | {asys / max(f[2], 0.01):.1f} | {(a[-1] if a else f)[3]} |")
PY
cat "$out.md"
