# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by abi-check.sh and abi-update.sh (sourced): builds the library
# the way the baseline was made (gcc, RelWithDebInfo, in build-abi/) and
# sets $lib to it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v abidw >/dev/null || { echo "abi: abidw not found (apt-get install abigail-tools; scripts/deps.sh)" >&2; exit 1; }
cmake -S . -B build-abi -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DSWIOTLB_BUILD_BENCH=OFF >/dev/null
cmake --build build-abi -j"${JOBS:-2}" --target swiotlb >/dev/null
lib=build-abi/libswiotlb.so
baseline=abi/libswiotlb.abi
# public types only (those reachable from include/), no paths
abidw_flags=(--headers-dir include --drop-private-types --no-corpus-path
	     --no-comp-dir-path --short-locs)
