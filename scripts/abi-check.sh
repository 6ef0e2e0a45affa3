#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Compare the library built from the current sources with the committed
# baseline abi/libswiotlb.abi (abidiff, Debian abigail-tools):
#   no change, new functions, fields appended to the size-tagged structs
#   (abi/suppressions.abignore):        pass
#   any other change, same soname:      FAIL (bump SWIOTLB_SOVERSION in
#                                       CMakeLists.txt, then abi-update.sh)
#   any other change, new soname:       pass, and asks for abi-update.sh
. "$(dirname "$0")/abi-lib.sh"
[ -f "$baseline" ] || { echo "abi-check: $baseline missing; run scripts/abi-update.sh" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
abidw "${abidw_flags[@]}" --out-file "$tmp/current.abi" "$lib"
rc=0
abidiff --no-added-syms --suppressions abi/suppressions.abignore "$baseline" "$tmp/current.abi" > "$tmp/report" || rc=$?
old_soname=$(sed -n 's/.*soname=.\([^"'\'' ]*\).*/\1/p' "$baseline" | head -1)
new_soname=$(sed -n 's/.*soname=.\([^"'\'' ]*\).*/\1/p' "$tmp/current.abi" | head -1)
if (( rc & 3 )); then
	cat "$tmp/report" >&2; echo "abi-check: abidiff failed (exit $rc)" >&2; exit 1
fi
if (( rc & 12 )); then
	if [ "$old_soname" = "$new_soname" ]; then
		cat "$tmp/report" >&2
		echo "abi-check: FAIL: ABI change with the soname unchanged ($new_soname)." >&2
		echo "  Bump SWIOTLB_SOVERSION in CMakeLists.txt, note it in CHANGELOG.md, run scripts/abi-update.sh." >&2
		exit 1
	fi
	echo "abi-check: ABI change with a new soname ($old_soname -> $new_soname): run scripts/abi-update.sh"
	exit 0
fi
echo "abi-check: ABI of $new_soname matches $baseline (compatible additions allowed)"
