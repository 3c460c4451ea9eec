#!/usr/bin/env bash
# A real private registry: tarn against Verdaccio, beside pnpm 12.21 on the same projects.
#   bash scripts/verdaccio-test.sh
# NOT part of the default test run (scripts/test.sh, ctest): it needs the npm registry once,
# to install Verdaccio into a cache folder ($TARN_VERDACCIO_DIR, default
# ~/.cache/tarn/verdaccio-<version>); later runs are offline.
#
# It starts Verdaccio on 127.0.0.1 with htpasswd auth, a scope @tarn-test/* that only an
# authenticated user may read (no uplinks), creates a user through Verdaccio's REST API
# (PUT /-/user/org.couchdb.user:<name>, which answers with a token), publishes
# @tarn-test/hello@1.0.0 with `npm publish`, and checks:
#   1. a project whose .npmrc names the scope's registry and its token gets the same
#      pnpm-lock.yaml, byte for byte, from `pnpm install --lockfile-only` and
#      `tarn install --lockfile-only`; `tarn install --frozen-lockfile` installs it and
#      require('@tarn-test/hello') works;
#   2. with a wrong token tarn fails (non-zero) with one ERR_PNPM_FETCH_401 line naming the
#      registry URL and the package, the token masked as pnpm masks it, and pnpm's own
#      "GET <url>: Unauthorized - 401" and hint in it; the frozen install (tarball fetch)
#      fails with ERR_PNPM_TARBALL_HTTP_STATUS (as pnpm 12.21), a 401 naming the tarball URL,
#      and never prints the token;
#   3. a token configured for another registry is not sent to this one (tarn, like pnpm,
#      reports that no authorization header was set).
# One line per check; exits non-zero when any fails. Verdaccio is killed on exit.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tarn=${TARN_BIN:-$root/build/tarn}
pnpm=${PNPM_BIN:-/work/tools-pnpm/node_modules/.bin/pnpm}
# 6.8.0 is the newest Verdaccio 6 whose engines accept Node 20 (6.9 and later want Node 22).
version=${VERDACCIO_VERSION:-6.8.0}
vdir=${TARN_VERDACCIO_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tarn/verdaccio-$version}

failures=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; failures=$((failures + 1)); }
check() { if [ "$2" = 0 ]; then pass "$1"; else fail "$1${3:+: $3}"; fi; }

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then echo "FAIL node >= 20 needed for Verdaccio $version (have $(node --version 2>&1))"; exit 1; fi
[ -x "$tarn" ] || { echo "FAIL no tarn binary at $tarn (bash scripts/build.sh)"; exit 1; }
[ -x "$pnpm" ] || { echo "FAIL no pnpm at $pnpm (set PNPM_BIN)"; exit 1; }

if [ ! -x "$vdir/node_modules/.bin/verdaccio" ]; then
  mkdir -p "$vdir"
  # verdaccio-audit asks for node-fetch@cjs, a dist-tag some registries and mirrors lack;
  # the override pins the same CommonJS 2.x line.
  cat > "$vdir/package.json" <<EOF
{ "private": true, "dependencies": { "verdaccio": "$version" }, "overrides": { "node-fetch": "2.7.0" } }
EOF
  npm install --prefix "$vdir" --no-audit --no-fund --loglevel=error >/dev/null || { echo "FAIL npm install verdaccio@$version"; exit 1; }
fi
pass "verdaccio $version installed in $vdir"

work=$(mktemp -d /tmp/tarn-verdaccio.XXXXXX)
vpid=
cleanup() {
  if [ -n "$vpid" ]; then kill "$vpid" 2>/dev/null; wait "$vpid" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
other_port=$(free_port)  # a registry that is not this one, for check 3 (nothing listens)
reg=http://127.0.0.1:$port/

cat > "$work/config.yaml" <<EOF
storage: $work/storage
auth:
  htpasswd:
    file: $work/htpasswd
    max_users: 10
uplinks: {}
packages:
  '@tarn-test/*':
    access: \$authenticated
    publish: \$authenticated
  '**':
    access: \$authenticated
    publish: \$authenticated
log: { type: stdout, format: pretty, level: warn }
EOF
"$vdir/node_modules/.bin/verdaccio" --config "$work/config.yaml" --listen "127.0.0.1:$port" > "$work/verdaccio.log" 2>&1 &
vpid=$!
for _ in $(seq 100); do curl -sf -o /dev/null "$reg-/ping" && break; sleep 0.2; done
curl -sf -o /dev/null "$reg-/ping"
check "verdaccio listening on $reg (pid $vpid)" $? "$(tail -3 "$work/verdaccio.log")"

# A user, and its token, through the REST API npm adduser uses.
token=$(curl -sf -X PUT "$reg-/user/org.couchdb.user:tarn" -H 'content-type: application/json' \
  -d '{"name":"tarn","password":"tarn-test-password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
[ -n "$token" ]
check "user created, token issued" $?
[ "$(curl -s -o /dev/null -w '%{http_code}' "$reg@tarn-test%2fhello")" = 401 ]
check "the scope is private: an anonymous GET is 401" $?

# @tarn-test/hello@1.0.0, published with npm.
pkg=$work/hello
mkdir -p "$pkg"
echo '{ "name": "@tarn-test/hello", "version": "1.0.0", "main": "index.js", "license": "MIT" }' > "$pkg/package.json"
echo "module.exports = 'hello from @tarn-test';" > "$pkg/index.js"
printf '//127.0.0.1:%s/:_authToken=%s\n' "$port" "$token" > "$work/publish.npmrc"
(cd "$pkg" && npm publish --registry "$reg" --userconfig "$work/publish.npmrc" --loglevel=error >/dev/null 2>"$work/publish.err")
check "npm publish @tarn-test/hello@1.0.0" $? "$(tail -3 "$work/publish.err")"

# project DIR TOKEN_LINE: a consumer of @tarn-test/hello with the scope's registry and the
# given credential line. minimumReleaseAge: 0 since the package was published seconds ago
# (pnpm 12 would otherwise add it to minimumReleaseAgeExclude in pnpm-workspace.yaml).
project() {
  mkdir -p "$1"
  echo '{ "name": "consumer", "private": true, "dependencies": { "@tarn-test/hello": "^1.0.0" } }' > "$1/package.json"
  printf '@tarn-test:registry=%s\n%s\n' "$reg" "$2" > "$1/.npmrc"
  echo 'minimumReleaseAge: 0' > "$1/pnpm-workspace.yaml"
}
# Each run has its own store and metadata cache, so nothing is answered from an earlier one.
run_pnpm() { local d=$1; shift; (cd "$d" && env -u CI "$pnpm" install --store-dir "$d.state/store" --config.cacheDir="$d.state/cache" "$@"); }
run_tarn() { local d=$1; shift; (cd "$d" && env -u CI XDG_CACHE_HOME="$d.state/cache" "$tarn" install --store-dir "$d.state/store" "$@"); }

# 1. The right token.
good="//127.0.0.1:$port/:_authToken=$token"
project "$work/p-pnpm" "$good"
project "$work/p-tarn" "$good"
run_pnpm "$work/p-pnpm" --lockfile-only > "$work/p-pnpm.out" 2>&1
check "pnpm install --lockfile-only" $? "$(tail -3 "$work/p-pnpm.out")"
run_tarn "$work/p-tarn" --lockfile-only > "$work/p-tarn.out" 2>&1
check "tarn install --lockfile-only" $? "$(tail -3 "$work/p-tarn.out")"
cmp -s "$work/p-pnpm/pnpm-lock.yaml" "$work/p-tarn/pnpm-lock.yaml"
rc=$?  # before the message's command substitution, which would set $? itself
check "pnpm-lock.yaml byte-identical (pnpm vs tarn, $(cat "$work/p-tarn/pnpm-lock.yaml" 2>/dev/null | wc -c) bytes)" $rc \
  "$(diff "$work/p-pnpm/pnpm-lock.yaml" "$work/p-tarn/pnpm-lock.yaml" 2>&1 | head -5)"
run_tarn "$work/p-tarn" --frozen-lockfile > "$work/p-tarn-frozen.out" 2>&1
check "tarn install --frozen-lockfile" $? "$(tail -3 "$work/p-tarn-frozen.out")"
got=$(cd "$work/p-tarn" && node -e "process.stdout.write(require('@tarn-test/hello'))" 2>&1)
[ "$got" = "hello from @tarn-test" ]
check "node -e \"require('@tarn-test/hello')\"" $? "$got"

# 2. A wrong token (long enough that pnpm shows its first four characters).
wrong=WRONGtokenABCDEFGHIJKLMNOPQRSTUV0123456789
# expect_401 NAME OUT RC URL HINT: tarn's failure as pnpm words it.
expect_401() {
  local name=$1 out=$2 rc=$3 url=$4 hint=$5 line
  line=$(grep '^ERR_PNPM_FETCH_401 ' "$out")
  [ "$rc" != 0 ] && [ "$(grep -c '^ERR_PNPM_FETCH_401 ' "$out")" = 1 ] && [[ $line == *"GET $url: Unauthorized - 401"* ]] &&
    [[ $line == *"@tarn-test/hello"* ]] && [[ $line == *"$hint"* ]] && ! grep -q "$wrong" "$out"
  check "$name: exit $rc, \"${line:0:160}...\"" $? "$(head -3 "$out")"
}
meta_url="${reg}@tarn-test%2Fhello"
project "$work/w-pnpm" "//127.0.0.1:$port/:_authToken=$wrong"
project "$work/w-tarn" "//127.0.0.1:$port/:_authToken=$wrong"
run_pnpm "$work/w-pnpm" --lockfile-only > "$work/w-pnpm.out" 2>&1
rc=$?
grep -q 'ERR_PNPM_FETCH_401' "$work/w-pnpm.out" && grep -q "GET $meta_url: Unauthorized - 401" "$work/w-pnpm.out" &&
  grep -q 'An authorization header was used: Bearer WRON\[hidden\]' "$work/w-pnpm.out" && [ $rc != 0 ]
check "pnpm, wrong token: ERR_PNPM_FETCH_401, GET $meta_url: Unauthorized - 401, Bearer WRON[hidden]" $? "$(head -12 "$work/w-pnpm.out")"
run_tarn "$work/w-tarn" --lockfile-only > "$work/w-tarn.out" 2>&1
expect_401 "tarn, wrong token, resolution" "$work/w-tarn.out" $? "$meta_url" "An authorization header was used: Bearer WRON[hidden]"

# The same wrong token at the frozen install's tarball fetch (the lockfile from check 1).
# pnpm 12.21 says ERR_PNPM_TARBALL_HTTP_STATUS "Tarball server returned HTTP 401 for <url>", as tarn.
tgz_url="${reg}@tarn-test/hello/-/hello-1.0.0.tgz"
cp "$work/p-pnpm/pnpm-lock.yaml" "$work/w-tarn/"
run_tarn "$work/w-tarn" --frozen-lockfile > "$work/w-tarn-frozen.out" 2>&1
rc=$?
line=$(grep -m1 '^ERR_PNPM_TARBALL_HTTP_STATUS ' "$work/w-tarn-frozen.out")
[ $rc != 0 ] && [[ $line == *"$tgz_url"* ]] && [[ $line == *401* ]] && [[ $line == *"@tarn-test/hello"* ]] && ! grep -q "$wrong" "$work/w-tarn-frozen.out"
check "tarn, wrong token, tarball: exit $rc, \"${line:0:160}\"" $? "$(head -3 "$work/w-tarn-frozen.out")"

# 3. A token for another registry only: nothing is sent to this one.
project "$work/o-pnpm" "//127.0.0.1:$other_port/:_authToken=$wrong"
project "$work/o-tarn" "//127.0.0.1:$other_port/:_authToken=$wrong"
run_pnpm "$work/o-pnpm" --lockfile-only > "$work/o-pnpm.out" 2>&1
rc=$?
grep -q "GET $meta_url: Unauthorized - 401" "$work/o-pnpm.out" && grep -q 'No authorization header was set for the request' "$work/o-pnpm.out" && [ $rc != 0 ]
check "pnpm, another registry's token: 401, no authorization header was set" $? "$(head -12 "$work/o-pnpm.out")"
run_tarn "$work/o-tarn" --lockfile-only > "$work/o-tarn.out" 2>&1
expect_401 "tarn, another registry's token, not sent" "$work/o-tarn.out" $? "$meta_url" "No authorization header was set for the request"

if [ "$failures" -gt 0 ]; then echo "$failures check(s) failed"; exit 1; fi
echo "all checks passed"
