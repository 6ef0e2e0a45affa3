#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Instructions per map+unmap, memcpy excluded, from callgrind: runs
# swiotlb-cg-loop with 10000 and 20000 pairs per size and prints the
# difference / 10000 (setup and teardown cancel out).  Stable on a noisy
# machine, unlike timings.  Under valgrind rseq is not registered, so about
# 30 of the counted instructions are sched_getcpu(), one load natively.
#   bash bench/callgrind.sh BUILDDIR [SIZES...]   (default 512 2048 16384 65536)
set -euo pipefail
if [ $# -lt 1 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
	echo "usage: bash bench/callgrind.sh BUILDDIR [SIZES...]" >&2
	exit 2
fi
loop="$1/bench/swiotlb-cg-loop"
shift
[ -x "$loop" ] || { echo "no $loop: build first" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind not installed" >&2; exit 1; }
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(512 2048 16384 65536)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
total() { callgrind_annotate --auto=no "$1" | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'; }
copy() {
	callgrind_annotate --auto=no "$1" |
		awk '/__mem(cpy|move)_[a-z0-9_]*unaligned/ { gsub(",", "", $1); s += $1 } END { print s + 0 }'
}
printf '%8s %12s %14s %10s\n' size Ir/op excl-memcpy memcpy
for sz in "${sizes[@]}"; do
	for n in 10000 20000; do
		valgrind --tool=callgrind --callgrind-out-file="$tmp/$n.out" \
			--toggle-collect=swiotlb_map --toggle-collect=swiotlb_unmap \
			"$loop" "$sz" "$n" 1 >/dev/null 2>&1
	done
	a=$(total "$tmp/10000.out"); b=$(total "$tmp/20000.out")
	ma=$(copy "$tmp/10000.out"); mb=$(copy "$tmp/20000.out")
	printf '%8s %12d %14d %10d\n' "$sz" $(((b - a) / 10000)) $(((b - a - mb + ma) / 10000)) \
		$(((mb - ma) / 10000))
done
