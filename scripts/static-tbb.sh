#!/usr/bin/env bash
# Builds oneTBB as a static archive from Debian bookworm's own source of the libtbb-dev
# version installed (Debian ships only libtbb.so), and prints its install prefix.
# libtbb.so is what kept libstdc++.so on tarn's up-to-date path: with it static, tarn links
# libstdc++ statically too and loads only libc and libm (see CMakeLists.txt for the numbers).
# Cached under ${XDG_CACHE_HOME:-~/.cache}/tarn-build-deps; prints nothing (and the build falls back to
# the shared libtbb) when the source cannot be fetched.
set -euo pipefail
version=2021.8.0
sha256=7e9111b8bb59c8800bf6d0b06afe7b0891937443d2dae1ee1101c8e2ede6a7ef
url=http://deb.debian.org/debian/pool/main/o/onetbb/onetbb_${version}.orig.tar.xz
cache=${XDG_CACHE_HOME:-$HOME/.cache}/tarn-build-deps
prefix=$cache/onetbb-$version-static
if [ -f "$prefix/lib/cmake/TBB/TBBConfig.cmake" ] && [ -f "$prefix/lib/libtbb.a" ]; then
  echo "$prefix"
  exit 0
fi
mkdir -p "$cache"
work=$(mktemp -d "$cache/onetbb-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
log=$work/log
{
  # The download is checked against the hash Debian's Sources index lists (via apt's
  # signed Release file) for onetbb_2021.8.0.orig.tar.xz.
  curl -fsSL --retry 3 -o "$work/src.tar.xz" "$url" &&
    echo "$sha256  $work/src.tar.xz" | sha256sum -c --quiet - &&
    tar -xf "$work/src.tar.xz" -C "$work" &&
    cmake -S "$work/oneTBB-$version" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DBUILD_SHARED_LIBS=OFF -DTBB_TEST=OFF -DTBB_EXAMPLES=OFF -DTBBMALLOC_BUILD=OFF -DTBB_STRICT=OFF \
      -DCMAKE_INSTALL_PREFIX="$work/prefix" &&
    cmake --build "$work/build" -j"$(nproc)" &&
    cmake --install "$work/build"
} >"$log" 2>&1 || {
  echo "static-tbb.sh: could not build a static oneTBB (the shared libtbb is used); log:" >&2
  tail -5 "$log" >&2
  exit 0
}
# Published by one rename, so a concurrent or interrupted run never leaves half a prefix.
rm -rf "$prefix"
mv "$work/prefix" "$prefix"
echo "$prefix"
