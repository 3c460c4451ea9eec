#!/usr/bin/env bash
# Records pnpm 12.21's --reporter=ndjson log of a frozen install of test/e2e/ndjson/project
# against its loopback registry (registry.json, served by tarn-test-registry), into
# test/e2e/ndjson/pnpm-12.21.ndjson. The e2e test "ndjson: ..." runs tarn on the same
# project against the same registry and compares the two logs' event kinds, counts, field
# names and order rules (not times, pids or paths).
#
#   scripts/record-pnpm-ndjson.sh [--lockfile] [--check]
#
# --lockfile  first rewrites project/pnpm-lock.yaml with `pnpm install --lockfile-only` (the
#             registry's tarballs are reproducible, so it only changes with registry.json).
# --check     writes nothing: prints the kinds of a fresh recording next to the committed
#             one's, to see which orders vary between pnpm runs.
#
# The install is cold (a fresh store and cache) so every package is downloaded, as in the
# test. Environment: only PATH and LANG/TZ pass through; HOME, the XDG directories, the
# store and the cache are fresh; CI is unset; the update notifier is off. The recorded log
# has the temporary paths replaced by <project> and <store>, and the registry URL by
# <registry>/.
#
# PNPM and TARN_TEST_REGISTRY override the binaries' paths.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
case_dir="$root/test/e2e/ndjson"
out_file="$case_dir/pnpm-12.21.ndjson"
pnpm="${PNPM:-/work/tools-pnpm/node_modules/.bin/pnpm}"
registry_bin="${TARN_TEST_REGISTRY:-$root/build/test/tarn-test-registry}"
lockfile=0 check=0
for a in "$@"; do
  case "$a" in
    --lockfile) lockfile=1 ;;
    --check) check=1 ;;
    *) echo "unknown argument $a" >&2; exit 2 ;;
  esac
done
[ -x "$registry_bin" ] || { echo "build tarn-test-registry first (cmake --build build --target tarn-test-registry)" >&2; exit 2; }
[ -x "$pnpm" ] || { echo "no pnpm at $pnpm (set PNPM)" >&2; exit 2; }
[ "$("$pnpm" --version)" = 12.21.0 ] || echo "warning: pnpm $("$pnpm" --version); the recorded log is pnpm 12.21.0's" >&2

tmp="$(mktemp -d /tmp/tarn-record-ndjson.XXXXXX)"
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

"$registry_bin" "$case_dir" --log >"$tmp/url" 2>"$tmp/requests" &
server_pid=$!
for _ in $(seq 100); do [ -s "$tmp/url" ] && break; sleep 0.05; done
url="$(head -1 "$tmp/url")"
[ -n "$url" ] || { echo "registry did not start: $(cat "$tmp/requests")" >&2; exit 1; }

run_pnpm() {
  (cd "$tmp/project" && env -i PATH="$PATH" LANG=C.UTF-8 TZ=UTC HOME="$tmp/home" \
      XDG_CONFIG_HOME="$tmp/home/.config" XDG_CACHE_HOME="$tmp/home/.cache" \
      XDG_DATA_HOME="$tmp/home/.local/share" XDG_STATE_HOME="$tmp/home/.local/state" \
      PNPM_CONFIG_STORE_DIR="$tmp/store" PNPM_CONFIG_CACHE_DIR="$tmp/cache" PNPM_CONFIG_UPDATE_NOTIFIER=false \
      "$pnpm" "$@")
}

mkdir -p "$tmp/home" "$tmp/project"
cp -a "$case_dir/project/." "$tmp/project/"
printf 'registry=%s\n' "$url" >"$tmp/project/.npmrc"
if [ "$lockfile" = 1 ]; then
  rm -f "$tmp/project/pnpm-lock.yaml"
  run_pnpm install --lockfile-only --reporter=append-only >"$tmp/lockfile-output" 2>&1 ||
    { cat "$tmp/lockfile-output" >&2; exit 1; }
  [ "$check" = 1 ] || cp "$tmp/project/pnpm-lock.yaml" "$case_dir/project/pnpm-lock.yaml"
  rm -rf "$tmp/store" "$tmp/cache"
fi
status=0
run_pnpm install --frozen-lockfile --reporter=ndjson >"$tmp/stdout" 2>"$tmp/log" || status=$?
if [ "$status" != 0 ]; then echo "pnpm failed ($status):" >&2; cat "$tmp/log" >&2; exit 1; fi
[ -s "$tmp/stdout" ] && { echo "pnpm wrote to stdout:" >&2; cat "$tmp/stdout" >&2; }
if grep -q ' (404)$' "$tmp/requests"; then
  echo "pnpm asked for what the registry does not have:" >&2; grep ' (404)$' "$tmp/requests" >&2
fi
sed -e "s|$tmp/project|<project>|g" -e "s|$tmp/store|<store>|g" -e "s|$url|<registry>/|g" "$tmp/log" >"$tmp/recorded"

kinds() {
  python3 -c 'import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    k = e["name"] + "".join(":" + e[f] for f in ("status", "stage") if f in e)
    print(k + (":" + ("added" if "added" in e else "removed") if e["name"] == "pnpm:stats" else ""))' "$1"
}
if [ "$check" = 1 ]; then
  diff <(kinds "$out_file") <(kinds "$tmp/recorded") && echo "same kinds in the same order" || true
else
  cp "$tmp/recorded" "$out_file"
  echo "wrote $out_file ($(wc -l <"$out_file") events)"
fi
