#!/usr/bin/env bash
# Writes libs/resolve/data/compat-extensions.json: the package extensions of
# @yarnpkg/extensions (BSD-2-Clause, the Yarn contributors), which pnpm 12.21 applies to
# every resolved manifest (its "compatibility database"; ignoreCompatibilityDb turns it
# off). Run with network access; the result is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:-2.0.7}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
curl -fsSL "https://registry.npmjs.org/@yarnpkg/extensions/-/extensions-$version.tgz" | tar xz -C "$tmp"
node -e '
const {packageExtensions} = require(process.argv[1] + "/package/lib/index.js");
process.stdout.write(JSON.stringify(packageExtensions, null, 1) + "\n");
' "$tmp" > libs/resolve/data/compat-extensions.json
echo "@yarnpkg/extensions $version: $(node -e 'console.log(require("./libs/resolve/data/compat-extensions.json").length)') entries"
