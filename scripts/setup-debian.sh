#!/usr/bin/env bash
# Installs tarn's build dependencies on Debian bookworm (run as root, or with sudo present).
# Extra package names may follow: scripts/fuzz.sh adds clang and its libFuzzer/sanitizer
# runtimes (libclang-rt-14-dev, only a Recommends of clang-14) so the default build stays lean.
set -euo pipefail
pkgs=(cmake ninja-build g++ ccache pkg-config ca-certificates curl xz-utils
      libboost1.81-dev libboost-json1.81-dev libboost-system1.81-dev
      libssl-dev zlib1g-dev libdeflate-dev libarchive-dev libyaml-cpp-dev libtbb-dev libfmt-dev libxxhash-dev catch2 "$@")
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
