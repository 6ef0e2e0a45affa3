#!/usr/bin/env bash
# Install the Debian packages libswiotlb needs (build, tests, models, bench).
# Installs only what is missing; safe to run again.  Needs root or sudo.
set -euo pipefail
pkgs=(build-essential cmake pkg-config liburcu-dev libcritnib-dev spin
      clang-14 libclang-rt-14-dev libjemalloc-dev gnuplot-nox python3
      abigail-tools debhelper lintian help2man qemu-user
      gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-s390x-linux-gnu libc6-dev-s390x-cross
      gcc-powerpc64le-linux-gnu libc6-dev-ppc64el-cross gcc-riscv64-linux-gnu
      libc6-dev-riscv64-cross qemu-system-common valgrind)
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
