#!/usr/bin/env bash
# Registry metadata for every package of a lockfile through tarn's PackumentClient: a cold
# cache, then the same cache revalidated (conditional GETs), then prefer-offline (no
# requests). Needs the registry; not part of the test suite.
#   bench/metadata.sh [BUILD_DIR] [LOCKFILE] [abbreviated|full]
set -euo pipefail
build=${1:-build}
lock=${2:-fixtures/alotta-modules/pnpm-lock.yaml}
kind=${3:-abbreviated}
bin="$build/bench/tarn-metadata-bench"
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
"$bin" "$lock" "$cache" revalidate "$kind" | sed 's/^/cold  /'
echo "cache: $(du -sh "$cache" | cut -f1) in $(find "$cache" -type f | wc -l) files"
"$bin" "$lock" "$cache" revalidate "$kind" | sed 's/^/warm  /'
"$bin" "$lock" "$cache" prefer-offline "$kind" | sed 's/^/warm  /'
