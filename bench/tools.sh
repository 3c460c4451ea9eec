# Sourced by bench/run.sh and bench/after-delete.sh: the peers, one project copy per tool,
# and each tool's install command with all of its state (store, caches) under one folder.
# Expects $root (the repository) and $fixture.
tools=$root/bench/tools
ensure_tools() {
  local need=()
  for c in hyperfine curl python3 npm /usr/bin/time; do command -v "$c" >/dev/null || need+=("$c"); done
  if [ ${#need[@]} -gt 0 ]; then
    bash "$root/scripts/setup-debian.sh"
    apt-get install -y -qq hyperfine curl python3 npm time >/dev/null
  fi
  bash "$root/scripts/build.sh" >/dev/null
  if [ ! -x "$tools/node_modules/.bin/bun" ]; then
    npm install --prefix "$tools" --no-audit --no-fund pnpm@12.21.0 @pnpm/pacquet@0.11.11 bun@1.4.5 >&2
  fi
}
pnpm=$tools/node_modules/.bin/pnpm
pacquet=$tools/node_modules/.bin/pacquet
bun=$tools/node_modules/.bin/bun

# workspace_dirs: a workspace fixture's packages (folders below the root holding a
# package.json, relative); none when pnpm-workspace.yaml lists no packages.
workspace_dirs() {
  local fx=$root/fixtures/$fixture
  grep -q '^packages:' "$fx/pnpm-workspace.yaml" 2>/dev/null || return 0
  (cd "$fx" && find . -mindepth 2 -name package.json -not -path '*/node_modules/*' -printf '%h\n' | sed 's|^\./||' | sort)
}
copy_workspace() {
  local fx=$root/fixtures/$fixture w
  for w in $(workspace_dirs); do mkdir -p "$1/$w" && cp -r "$fx/$w/." "$1/$w/"; done
}
# node_modules_of PROJECT: the node_modules folders an install makes (the root's, and each
# workspace package's), for the wipes.
node_modules_of() {
  local w out="$1/node_modules"
  for w in $(workspace_dirs); do out+=" $1/$w/node_modules"; done
  echo "$out"
}
# installed_ok PROJECT: every importer of the fixture's lockfile has each of its direct
# dependencies in its node_modules (a tool that ignores the workspace fails this).
installed_ok() {
  python3 - "$root/fixtures/$fixture/pnpm-lock.yaml" "$1" <<'PY'
import os, re, sys
imp, bad = None, []
for line in open(sys.argv[1]):
    if line.startswith("packages:"): break
    m = re.match(r"^  (\S[^:]*):\s*$", line)
    if m: imp = m.group(1).strip("'")
    m = re.match(r"^      '?([^':\s]+)'?:\s*$", line)
    if imp and m and not os.path.exists(os.path.join(sys.argv[2], imp, "node_modules", m.group(1))):
        bad.append(f"{imp}/node_modules/{m.group(1)}")
if bad: print("missing " + ", ".join(bad[:3])); sys.exit(1)
PY
}

# make_project TOOL DIR: the fixture for TOOL in DIR. pnpm gets minimumReleaseAge: 0
# (without it pnpm 12 re-verifies every locked package's release age on each install);
# bun reads the committed bun.lock, migrated from the same pnpm-lock.yaml (`bun pm migrate`).
make_project() {
  local t=$1 d=$2 fx=$root/fixtures/$fixture
  rm -rf "$d"; mkdir -p "$d"
  cp "$fx/package.json" "$fx/pnpm-lock.yaml" "$d/"
  [ -f "$fx/pnpm-workspace.yaml" ] && cp "$fx/pnpm-workspace.yaml" "$d/"
  copy_workspace "$d"
  chmod -R u+w "$d"
  sed -i '/^storeDir:/d' "$d/pnpm-workspace.yaml" 2>/dev/null || true
  case $t in
    pnpm) grep -q '^minimumReleaseAge:' "$d/pnpm-workspace.yaml" 2>/dev/null || printf '\nminimumReleaseAge: 0\n' >> "$d/pnpm-workspace.yaml" ;;
    bun)
      if [ -f "$fx/bun.lock" ]; then cp "$fx/bun.lock" "$d/"; else (cd "$d" && "$bun" pm migrate >&2); fi
      rm -f "$d/pnpm-lock.yaml" ;;
  esac
}

# install_cmd TOOL PROJECT STATE: TOOL's frozen, scripts-off install of PROJECT keeping its
# store and caches under STATE (pacquet and bun through their environment).
install_cmd() {
  local t=$1 p=$2 s=$3 bin=${TARN_BIN:-$root/build/tarn}
  case $t in
    tarn*) [ "$t" = tarn-base ] && bin=$TARN_BASE  # an older build, for before/after
       echo "cd $p && $bin install --frozen-lockfile --ignore-scripts --store-dir $s/store --reporter=silent" ;;
    pnpm) echo "cd $p && $pnpm install --frozen-lockfile --ignore-scripts --store-dir $s/store --config.cacheDir=$s/cache --reporter=silent" ;;
    pacquet) echo "cd $p && env HOME=$s XDG_DATA_HOME=$s/data XDG_CACHE_HOME=$s/cache $pacquet install --frozen-lockfile --ignore-scripts" ;;
    bun) echo "cd $p && env BUN_INSTALL_CACHE_DIR=$s/store $bun install --frozen-lockfile --ignore-scripts --linker=isolated --silent" ;;
  esac
}

# make_clean_project TOOL DIR: the fixture's package.json and pnpm-workspace.yaml, no
# lockfile: a first install, which resolves. tarn and pnpm both get minimumReleaseAge: 0, so
# that both pick from the same versions and neither needs the full documents for `time`.
make_clean_project() {
  local t=$1 d=$2 fx=$root/fixtures/$fixture
  rm -rf "$d"; mkdir -p "$d"
  cp "$fx/package.json" "$d/"
  [ -f "$fx/pnpm-workspace.yaml" ] && cp "$fx/pnpm-workspace.yaml" "$d/"
  copy_workspace "$d"
  chmod -R u+w "$d"
  sed -i '/^storeDir:/d' "$d/pnpm-workspace.yaml" 2>/dev/null || true
  grep -q '^minimumReleaseAge:' "$d/pnpm-workspace.yaml" 2>/dev/null || printf '\nminimumReleaseAge: 0\n' >> "$d/pnpm-workspace.yaml"
}

# clean_cmd TOOL PROJECT STATE: TOOL's install of the clean project, scripts off, with its
# store and metadata cache under STATE. CI stays unset (pnpm and tarn would refuse to resolve).
clean_cmd() {
  local t=$1 p=$2 s=$3 bin=${TARN_BIN:-$root/build/tarn}
  case $t in
    tarn) echo "cd $p && env -u CI XDG_CACHE_HOME=$s/cache $bin install --ignore-scripts --store-dir $s/store --reporter=silent" ;;
    pnpm) echo "cd $p && env -u CI $pnpm install --ignore-scripts --store-dir $s/store --config.cacheDir=$s/cache --reporter=silent" ;;
    pacquet) echo "cd $p && env -u CI HOME=$s XDG_DATA_HOME=$s/data XDG_CACHE_HOME=$s/cache $pacquet install --ignore-scripts" ;;
    bun) echo "cd $p && env -u CI BUN_INSTALL_CACHE_DIR=$s/store $bun install --ignore-scripts --linker=isolated --silent" ;;
  esac
}

# rounds NAME ENTRIES...: RUNS rounds of one hyperfine run per entry, rotated each round.
# An entry is "label|prepare|command"; results go to $work/NAME-<round>.json. Uses the
# caller's $work and $runs (bench/run.sh, bench/floor.sh).
rounds() {
  local name=$1; shift
  local entries=("$@") n=$# r k
  rm -f "$work/$name"-*.json
  for r in $(seq 0 $((runs - 1))); do
    local args=()
    for k in $(seq 0 $((n - 1))); do
      IFS='|' read -r label prep command <<< "${entries[$(( (k + r) % n ))]}"
      args+=(--command-name "$label" --prepare "$prep" "$command")
    done
    hyperfine --runs 1 --export-json "$work/$name-$r.json" "${args[@]}" >&2
  done
}
