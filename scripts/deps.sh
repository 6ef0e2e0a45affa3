#!/usr/bin/env bash
# Install the Debian packages libswiotlb needs (build, tests, models, bench).
# Installs only what is missing; safe to run again.  Needs root or sudo.
set -euo pipefail
pkgs=(build-essential cmake pkg-config liburcu-dev libcritnib-dev spin
      clang-14 libclang-rt-14-dev libjemalloc-dev gnuplot-nox python3 valgrind)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps.sh: installing ${missing[*]}"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
