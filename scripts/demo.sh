#!/usr/bin/env bash
# Build libswiotlb and run the demo (an emulated DMA device, a driver and a
# completion thread bouncing through growing and shrinking pools).
# Extra arguments go to swiotlb-demo (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)" --target swiotlb-demo
exec ./build/tests/system/swiotlb-demo "$@"
