#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Build a small external program against an installed libswiotlb, each way
# a user would, and run it:
#   1. pkg-config (shared library)
#   2. pkg-config --static, a fully static executable
#   3. CMake find_package(swiotlb): swiotlb::swiotlb, and
#      swiotlb::swiotlb_static linked into the consumer's own shared object
# Usage: run.sh PREFIX [CC]   (PREFIX: an installed tree, e.g. from
#        `cmake --install build --prefix PREFIX`, or /usr for the package)
set -euo pipefail
prefix=${1:?usage: run.sh PREFIX [CC]}
cc=${2:-cc}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
pcdir=$(dirname "$(find "$prefix"/lib* -maxdepth 3 -name libswiotlb.pc -path "*/pkgconfig/*" 2>/dev/null | head -1)")
[ -f "$pcdir/libswiotlb.pc" ] || { echo "consumer: no libswiotlb.pc under $prefix" >&2; exit 1; }
export PKG_CONFIG_PATH="$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
libdir=$(pkg-config --variable=libdir libswiotlb)

echo "consumer: pkg-config, shared"
# shellcheck disable=SC2046
"$cc" -o "$work/shared" "$here/app/consumer.c" $(pkg-config --cflags --libs libswiotlb) \
	-Wl,-rpath,"$libdir"
readelf -d "$work/shared" | grep -q 'NEEDED.*libswiotlb\.so\.1' ||
	{ echo "consumer: shared build does not need libswiotlb.so.1" >&2; exit 1; }
"$work/shared"

echo "consumer: pkg-config --static, static executable"
# shellcheck disable=SC2046
"$cc" -static -o "$work/static" "$here/app/consumer.c" \
	$(pkg-config --static --cflags --libs libswiotlb)
if readelf -d "$work/static" 2>/dev/null | grep -q NEEDED; then
	echo "consumer: static build has dynamic dependencies" >&2; exit 1
fi
"$work/static"

echo "consumer: CMake find_package(swiotlb)"
cmake -S "$here/app" -B "$work/cmake" -DCMAKE_C_COMPILER="$cc" \
	-DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cmake" >/dev/null
"$work/cmake/consumer_cmake"
if readelf -d "$work/cmake/libconsumer_plugin.so" | grep -q 'NEEDED.*libswiotlb'; then
	echo "consumer: plugin should contain libswiotlb.a, not need the .so" >&2; exit 1
fi
"$work/cmake/consumer_cmake_static"
echo "consumer: all three ways build and run"
