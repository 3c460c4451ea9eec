#!/usr/bin/env bash
# Writes test/resolve/cases/<case>/expected/ with pnpm 12.21 against the case's loopback
# registry, so the tests need neither pnpm nor the internet.
#
#   scripts/gen-resolve-cases.sh [--check] [--keep] [--cases DIR] [case...]   (default: every case)
#
# For each case: start tarn-test-registry on registry.json, copy project/ to a temporary
# directory, point it at the registry (.npmrc registry=), run pnpm with the arguments in
# `cmd` and a clean environment, then replace expected/ with
#   - every file pnpm created or changed in the project (pnpm-lock.yaml; package.json for
#     add/remove), node_modules and the .npmrc written here excluded;
#   - output.txt: pnpm's append-only output with the temporary paths and the registry URL
#     replaced by <project> and <registry>, minimumReleaseAge's cutoff (now - 1 day) by
#     <cutoff>, durations "in 17ms)" by "in <time>)", the "Done in" line dropped, and runs
#     of [WARN] lines sorted (pnpm prints them in the order resolutions finish);
#   - exit-code, only when pnpm failed.
# A project file may name the registry as `<registry>/`, the same server as `<tarballs>/`
# (http://localhost:<port>/, which pnpm does not take for the registry: a plain tarball URL),
# and `<git>/`, the directory holding repo.git, a bare repository of the case's git-src/ (one
# commit with a fixed author and date, fixtures/kinds/make-git-repo.sh). They are filled in
# before pnpm runs and put back in expected/, so the case names no port or temporary path
# (test/e2e/resolve_cases_test.cpp does the same).
# --check writes nothing: it fails when a fresh run differs from expected/ (run it twice: the
# registry gets a new port each time, so this also proves the lockfile does not name it).
# --keep leaves the temporary directories (the request log is in <tmp>/requests).
# --cases DIR runs the cases under DIR instead of test/resolve/cases (how the lockfiles that
# add/remove cases start from were written: see test/resolve/cases/README.md).
#
# Environment: only PATH and LANG/TZ pass through; HOME, the XDG directories, the store and
# the cache are fresh per case, CI is unset (CI=true would imply --frozen-lockfile), the update
# notifier is off (it asks the registry for /pnpm). pnpm's
# defaults stay (minimumReleaseAge 1440 min, autoInstallPeers true, ...): a case that needs a
# setting puts it in its project/pnpm-workspace.yaml and says so in its README.md.
#
# PNPM and TARN_TEST_REGISTRY override the binaries' paths.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cases_dir="$root/test/resolve/cases"
pnpm="${PNPM:-/work/tools-pnpm/node_modules/.bin/pnpm}"
registry_bin="${TARN_TEST_REGISTRY:-$root/build/test/tarn-test-registry}"
check=0 keep=0
names=()
while [ $# -gt 0 ]; do
  a="$1"; shift
  case "$a" in
    --check) check=1 ;;
    --keep) keep=1 ;;
    --cases) cases_dir="$(cd "$1" && pwd)"; shift ;;
    -*) echo "unknown option $a" >&2; exit 2 ;;
    *) names+=("${a%/}") ;;
  esac
done
[ -x "$registry_bin" ] || { echo "build tarn-test-registry first (cmake --build build --target tarn-test-registry)" >&2; exit 2; }
[ -x "$pnpm" ] || { echo "no pnpm at $pnpm (set PNPM)" >&2; exit 2; }
[ "$("$pnpm" --version)" = 12.21.0 ] || echo "warning: pnpm $("$pnpm" --version), the corpus is pnpm 12.21.0's" >&2
if [ ${#names[@]} -eq 0 ]; then
  for d in "$cases_dir"/*/; do names+=("$(basename "$d")"); done
fi

server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true; }
trap cleanup EXIT

# Files under $2 (the run) that are not in $1 (project/) or differ from it.
changed_files() {
  (cd "$2" && find . -path ./node_modules -prune -o -name node_modules -prune -o -type f -print) |
    sed 's|^\./||' | sort | while read -r f; do
      [ "$f" = .npmrc ] && continue
      cmp -s "$1/$f" "$2/$f" || echo "$f"
    done
}

# pnpm prints "[WARN] deprecated x" as each resolution finishes, in no fixed order: each run of
# consecutive [WARN] lines is sorted.
sort_warning_runs() {
  awk 'function flush() { if (n) { fflush(); for (i = 0; i < n; i++) print buf[i] | "LC_ALL=C sort"; close("LC_ALL=C sort"); n = 0 } }
       /^\[WARN\] / { buf[n++] = $0; next }
       { flush(); print }
       END { flush() }'
}

run_case() {
  local name="$1" dir="$cases_dir/$1" tmp out status=0
  [ -f "$dir/registry.json" ] && [ -d "$dir/project" ] && [ -f "$dir/cmd" ] ||
    { echo "$name: needs registry.json, project/ and cmd" >&2; return 1; }
  tmp="$(mktemp -d /tmp/tarn-gen-case.XXXXXX)"
  "$registry_bin" "$dir" --log >"$tmp/url" 2>"$tmp/requests" &
  server_pid=$!
  for _ in $(seq 100); do [ -s "$tmp/url" ] && break; sleep 0.05; done
  local url; url="$(head -1 "$tmp/url")"
  [ -n "$url" ] || { echo "$name: registry did not start: $(cat "$tmp/requests")" >&2; return 1; }
  mkdir -p "$tmp/home" "$tmp/work" "$tmp/orig"
  cp -a "$dir/project/." "$tmp/orig/"
  local tarballs="${url/127.0.0.1/localhost}"
  # git-src/: committed as <git>/repo.git with a fixed author and date (the same commit on
  # every run), the way test/e2e/resolve_cases_test.cpp builds it.
  if [ -d "$dir/git-src" ]; then sh "$root/fixtures/kinds/make-git-repo.sh" "$dir/git-src" "$tmp/git" >/dev/null; fi
  grep -rlE '<(registry|tarballs|git)>/' "$tmp/orig" | while read -r f; do
    sed -i -e "s|<registry>/|$url|g" -e "s|<tarballs>/|$tarballs|g" -e "s|<git>/|$tmp/git/|g" "$f"; done || true
  cp -a "$tmp/orig/." "$tmp/work/"
  printf 'registry=%s\n' "$url" >>"$tmp/work/.npmrc"
  local -a args
  read -ra args <"$dir/cmd"
  (cd "$tmp/work" && env -i PATH="$PATH" LANG=C.UTF-8 TZ=UTC HOME="$tmp/home" \
      XDG_CONFIG_HOME="$tmp/home/.config" XDG_CACHE_HOME="$tmp/home/.cache" \
      XDG_DATA_HOME="$tmp/home/.local/share" XDG_STATE_HOME="$tmp/home/.local/state" \
      PNPM_CONFIG_STORE_DIR="$tmp/store" PNPM_CONFIG_CACHE_DIR="$tmp/cache" PNPM_CONFIG_UPDATE_NOTIFIER=false \
      "$pnpm" "${args[@]}" --reporter=append-only) >"$tmp/output" 2>&1 || status=$?
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
  if grep -q ' (404)$' "$tmp/requests"; then
    echo "$name: pnpm asked for what the registry does not have:" >&2; grep ' (404)$' "$tmp/requests" >&2
  fi
  out="$tmp/expected"
  mkdir -p "$out"
  changed_files "$tmp/orig" "$tmp/work" | while read -r f; do
    mkdir -p "$out/$(dirname "$f")"; sed -e "s|$url|<registry>/|g" -e "s|$tarballs|<tarballs>/|g" -e "s|$tmp/git/|<git>/|g" "$tmp/work/$f" >"$out/$f"
  done
  sed -e "s|$tmp/work|<project>|g" -e "s|$tmp/git/|<git>/|g" -e "s|$tmp|<tmp>|g" -e "s|$url|<registry>/|g" -e "s|$tarballs|<tarballs>/|g" -e "s|${url%/}|<registry>|g" \
    -e 's/cutoff ([0-9][0-9T:.Z-]*)/cutoff (<cutoff>)/g' -e 's/ in [0-9.]*m\{0,1\}s)/ in <time>)/g' -e '/^Done in /d' "$tmp/output" | sort_warning_runs >"$out/output.txt"
  [ "$status" = 0 ] || echo "$status" >"$out/exit-code"
  local rc=0
  if [ "$check" = 1 ]; then
    if diff -r "$dir/expected" "$out" >"$tmp/diff"; then echo "$name: same"; else
      echo "$name: DIFFERS"; cat "$tmp/diff"; rc=1; fi
  else
    rm -rf "$dir/expected"; cp -a "$out" "$dir/expected"
    echo "$name: exit $status, wrote $(cd "$out" && find . -type f | sed 's|^\./||' | sort | tr '\n' ' ')"
  fi
  if [ "$keep" = 1 ]; then echo "  kept $tmp"; else rm -rf "$tmp"; fi
  return $rc
}

failed=0
for n in "${names[@]}"; do run_case "$n" || failed=1; done
exit $failed
