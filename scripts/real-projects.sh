#!/usr/bin/env bash
# Real-projects check (issue 8). Label: real-registry. It needs the npm registry, so it is
# not part of the default test run (scripts/test.sh, ctest).
#
# For fixtures/native (npm: aliases, tarball URLs, a patched dependency, allowed builds of
# esbuild, sharp and @swc/core with their platform binaries), with lifecycle scripts ON:
#   1. installs it with `tarn install --frozen-lockfile` into a temp copy with an empty store,
#      and with pnpm 12.21 into another temp copy with its own store;
#   2. compares the two node_modules listings (nm-tree --diff);
#   3. checks that the installed programs run, in tarn's copy and (to check the checks) in
#      pnpm's: `.bin/esbuild --version` prints the locked version from the native binary
#      the postinstall put in place, sharp and @swc/core load their native bindings and do
#      work, each npm: alias reports its own version, the tarball-URL packages load, the
#      patched file holds the patch;
#   4. installs a second copy from tarn's now warm store (a build must not have written
#      through a hard link into the store) and compares it with pnpm's listing again.
# One line per check; exit status 1 if any check failed, 2 if a tool is missing.
#   bash scripts/real-projects.sh
# Environment: TARN (default build/tarn), PNPM (default pnpm on PATH, else
# /work/tools-pnpm/node_modules/.bin/pnpm; must be pnpm 12.21), NM_TREE (default nm-tree on
# PATH, else /work/shared/tools/nm-tree), REPORTER (default silent), KEEP=1 keeps the temp dir.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
fx=$root/fixtures/native
TARN=${TARN:-$root/build/tarn}
PNPM=${PNPM:-$(command -v pnpm || echo /work/tools-pnpm/node_modules/.bin/pnpm)}
NM_TREE=${NM_TREE:-$(command -v nm-tree || echo /work/shared/tools/nm-tree)}
REPORTER=${REPORTER:-silent}
for tool in "$TARN" "$PNPM" "$NM_TREE" "$(command -v node)"; do
  [ -x "$tool" ] || { echo "real-projects: ${tool:-node} is missing or not executable" >&2; exit 2; }
done

work=$(mktemp -d /tmp/tarn-real.XXXXXX)
if [ "${KEEP:-}" = 1 ]; then echo "keeping $work"; else trap 'rm -rf "$work"' EXIT; fi
for d in tarn tarn-warm pnpm; do
  mkdir -p "$work/$d"
  (cd "$fx" && tar --exclude=node_modules --exclude=pnpm-layout.txt.gz -cf - .) | tar -xf - -C "$work/$d"
done

passed=0 failed=0
result() {  # result NAME OK(0/1) [DETAIL]
  if [ "$2" = 0 ]; then echo "PASS $1"; passed=$((passed + 1))
  else echo "FAIL $1${3:+: $3}"; failed=$((failed + 1)); fi
}

# The version pnpm locked for a direct dependency (importers come first in pnpm-lock.yaml).
locked() {
  awk -v n="$1" '$1 == n":" || $1 == "'\''"n"'\'':" { getline; getline; print $2; exit }' "$fx/pnpm-lock.yaml"
}

# --- 1. installs, scripts on ---------------------------------------------------------------
if out=$("$TARN" install --frozen-lockfile --store-dir "$work/tarn-store" --dir "$work/tarn" \
           --reporter="$REPORTER" 2>&1); then result "tarn install (scripts on, empty store)" 0
else result "tarn install (scripts on, empty store)" 1 "$(echo "$out" | tail -5)"; fi
if out=$(cd "$work/pnpm" && "$PNPM" install --frozen-lockfile --store-dir "$work/pnpm-store" \
           --config.cacheDir="$work/pnpm-cache" --reporter="$REPORTER" 2>&1); then
  result "pnpm install (reference)" 0
else result "pnpm install (reference)" 1 "$(echo "$out" | tail -5)"; fi

# --- 2. layout -----------------------------------------------------------------------------
compare_layout() {  # compare_layout NAME DIR
  if "$NM_TREE" --diff "$work/pnpm" "$2" > "$work/$1.diff" 2>&1; then
    result "$1: same node_modules as pnpm ($(cut -d' ' -f3 "$work/$1.diff") entries)" 0
  else
    result "$1: node_modules differs from pnpm" 1 "$(head -30 "$work/$1.diff")"
  fi
}
compare_layout layout "$work/tarn"

# --- 3. programs ---------------------------------------------------------------------------
run_checks() {  # run_checks WHO DIR
  local who=$1 dir=$2 v out
  v=$(locked esbuild)
  out=$(cd "$dir" && node_modules/.bin/esbuild --version 2>&1)
  result "$who: .bin/esbuild --version prints the locked $v" "$([ "$out" = "$v" ]; echo $?)" "$out"
  out=$(head -c4 "$dir/node_modules/esbuild/bin/esbuild" | od -An -c | tr -d ' ')
  result "$who: esbuild's postinstall put the native binary in bin/esbuild" \
    "$([ "$out" = '177ELF' ]; echo $?)" "starts with $out"
  out=$(cd "$dir" && node -e "
    const sharp = require('sharp');
    sharp({create: {width: 2, height: 2, channels: 3, background: 'red'}}).png().toBuffer()
      .then(b => console.log(sharp.versions.sharp, b.length > 0 ? 'png' : 'empty'),
            e => { console.log(e.message); process.exit(1); });" 2>&1)
  result "$who: require('sharp') renders a PNG with its native binding" \
    "$([ "$out" = "$(locked sharp) png" ]; echo $?)" "$out"
  out=$(cd "$dir" && node -e "
    const swc = require('@swc/core');
    const code = swc.transformSync('const a: number = 1', {jsc: {parser: {syntax: 'typescript'}}}).code;
    console.log(swc.version, code.trim());" 2>&1)
  result "$who: require('@swc/core') transforms TypeScript" \
    "$([ "$out" = "$(locked '@swc/core') var a = 1;" ]; echo $?)" "$out"
  for alias in is-number-6 is-number-7; do
    v=$(locked "$alias"); v=${v#is-number@}
    out=$(cd "$dir" && node -e "
      const fs = require('fs'), path = require('path');
      const main = require.resolve('$alias');
      const pj = JSON.parse(fs.readFileSync(path.join(path.dirname(main), 'package.json'), 'utf8'));
      console.log(pj.name, pj.version, require('$alias')(5));" 2>&1)
    result "$who: alias $alias is is-number $v" "$([ "$out" = "is-number $v true" ]; echo $?)" "$out"
  done
  out=$(cd "$dir" && node -e "console.log(require('escape-html')('<a>'))" 2>&1)
  result "$who: tarball-URL dependency escape-html loads" "$([ "$out" = '&lt;a&gt;' ]; echo $?)" "$out"
  out=$(cd "$dir" && node -e "console.log(require('kleur').bold('x').length > 0)" 2>&1)
  result "$who: registry tarball-URL dependency kleur loads" "$([ "$out" = true ]; echo $?)" "$out"
  local added
  added=$(grep '^+[^+]' "$fx/patches/ms@2.1.3.patch" | sed 's/^+//')
  out=$(cd "$dir" && node -e "console.log(require('ms').tarnPatched, require('ms')('1s'))" 2>&1)
  result "$who: patched ms holds the patch's lines and works" \
    "$( { [ "$out" = 'true 1000' ] && grep -qxF -f <(printf '%s\n' "$added") "$dir/node_modules/ms/index.js" &&
          [ "$(grep -cxF -f <(printf '%s\n' "$added") "$dir/node_modules/ms/index.js")" = "$(printf '%s\n' "$added" | wc -l)" ]; }; echo $?)" "$out"
}
run_checks tarn "$work/tarn"
run_checks pnpm "$work/pnpm"

# --- 4. warm store -------------------------------------------------------------------------
if out=$("$TARN" install --frozen-lockfile --store-dir "$work/tarn-store" --dir "$work/tarn-warm" \
           --reporter="$REPORTER" 2>&1); then result "tarn install (scripts on, warm store)" 0
else result "tarn install (scripts on, warm store)" 1 "$(echo "$out" | tail -5)"; fi
compare_layout warm-layout "$work/tarn-warm"

echo "real-projects: $passed passed, $failed failed"
[ "$failed" = 0 ]
