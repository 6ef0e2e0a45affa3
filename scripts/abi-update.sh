#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Regenerate the committed ABI baseline abi/libswiotlb.abi from the current
# sources (after a release, or after an intended change with a soname bump).
. "$(dirname "$0")/abi-lib.sh"
abidw "${abidw_flags[@]}" --out-file "$baseline" "$lib"
echo "abi-update: wrote $baseline ($(readelf -d "$lib" | sed -n 's/.*soname: \[\(.*\)\]/\1/p'))"
