#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The shared library exports exactly the out-of-line functions declared in
# include/swiotlb.h, each at version LIBSWIOTLB_<major>.<minor>, and no
# other symbol (test hooks, internal helpers).
# Usage: scripts/check-exports.sh path/to/libswiotlb.so
# (the declarations are listed by gcc's -aux-info, whatever built the library)
set -euo pipefail
lib=${1:?usage: check-exports.sh LIBSWIOTLB_SO}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
major=$(sed -n 's/^#define SWIOTLB_VERSION_MAJOR \([0-9]*\)/\1/p' "$root/include/swiotlb.h")
minor=$(sed -n 's/^#define SWIOTLB_VERSION_MINOR \([0-9]*\)/\1/p' "$root/include/swiotlb.h")
node="LIBSWIOTLB_$major.$minor"

# declared: the compiler's own list of prototypes (-aux-info), as the
# library sees the header (SWIOTLB_BUILDING: no inline fast paths)
echo '#include "swiotlb.h"' > "$tmp/h.c"
gcc -std=gnu11 -D_GNU_SOURCE -DSWIOTLB_BUILDING -I"$root/include" \
	-aux-info "$tmp/aux" -fsyntax-only "$tmp/h.c"
grep 'swiotlb\.h' "$tmp/aux" | grep -v ' static ' |
	sed -E 's/.*[ *]([A-Za-z_0-9]+) \(.*/\1/' | sort -u > "$tmp/declared"
# exported: dynamic symbols defined by the library (the version node
# itself is an absolute symbol named after the node)
nm -D --defined-only "$lib" | awk '{print $3}' | grep -v "^$node\$" | sort -u > "$tmp/exported"
sed 's/@@.*//' "$tmp/exported" | sort -u > "$tmp/names"

fail=0
if ! diff -u "$tmp/declared" "$tmp/names" > "$tmp/diff"; then
	echo "check-exports: exported symbols differ from include/swiotlb.h (- declared only, + exported only):" >&2
	grep '^[-+][^-+]' "$tmp/diff" >&2
	fail=1
fi
if grep -v "@@$node\$" "$tmp/exported" > "$tmp/badver"; then
	echo "check-exports: symbols not at version $node:" >&2
	cat "$tmp/badver" >&2
	fail=1
fi
[ $fail -eq 0 ] && echo "check-exports: $(wc -l < "$tmp/names") symbols, all declared in swiotlb.h, all @@$node"
exit $fail
