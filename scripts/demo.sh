#!/usr/bin/env bash
# Build libswiotlb and run the demo: a real, unmodified device in another
# process (QEMU's qemu-storage-daemon exporting a vhost-user-blk disk) that
# reads and writes only through libswiotlb's bounce buffers, in memfd pools
# registered with it as they grow and removed as they shrink
# (examples/vhost-user-blk/, docs/VHOST-USER.md).
#
#   bash scripts/demo.sh [vublk-demo options]      the real device (--help)
#   bash scripts/demo.sh --emulated [options]      the in-process emulated
#                                                  NVMe-like device instead
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build >/dev/null
if [ "${1:-}" = "--emulated" ]; then
  shift
  cmake --build build -j"$(nproc)" --target swiotlb-demo
  exec ./build/tests/system/swiotlb-demo "$@"
fi
cmake --build build -j"$(nproc)"   # everything: the tools the README names too
exec ./build/examples/vhost-user-blk/vublk-demo "$@"
