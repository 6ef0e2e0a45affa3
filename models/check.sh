#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# check.sh -- run every spin memory-ordering model of libswiotlb.
#
#   bash models/check.sh
#
# Each model must verify with 0 errors as written, and every switch that
# removes a barrier (or asserts that the interesting case is unreachable,
# the REACH* non-vacuity checks) must make spin report an assertion
# violation, except the switches run as "ok" (a shape that must hold, or
# a barrier another one stands in for: run_cache's WAITER_NO_B2).  pan is built in a temporary directory that is removed at the
# end (set CHECK_KEEP=1 to keep it, e.g. to replay a trail with spin -t -p).
# Exit status: 0 iff every verdict is as expected.

set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
depth=100000            # pan -m: far beyond the ~60 steps the models need
vectorsz=4096
pan_timeout=120

for tool in spin cc; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "check.sh: '$tool' not found (install the Debian packages spin and gcc)" >&2
		exit 2
	fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/swiotlb-models.XXXXXX") || exit 2
if [ "${CHECK_KEEP:-0}" = 1 ]; then
	echo "check.sh: keeping work directory $work" >&2
else
	trap 'rm -rf "$work"' EXIT
fi

failures=0
runs=0

# run MODEL EXPECT [DEFINE]
#   EXPECT: ok  -> complete search, errors: 0
#           bad -> an assertion violation must be found
run() {
	local model=$1 expect=$2 def=${3:-}
	local name=${model%.pml}
	local label=${def:-as-written}
	local dir="$work/$name${def:+_${def#-D}}"
	local verdict reason=""

	runs=$((runs + 1))
	mkdir -p "$dir"
	cp "$here/$model" "$dir/" || { reason="cannot copy $model"; }

	if [ -z "$reason" ]; then
		( cd "$dir" && spin $def -a "$model" ) >"$dir/spin.log" 2>&1 ||
			reason="spin -a failed (see $dir/spin.log)"
	fi
	if [ -z "$reason" ]; then
		( cd "$dir" && cc -O0 -DSAFETY -DVECTORSZ=$vectorsz -o pan pan.c ) \
			>"$dir/cc.log" 2>&1 || reason="cc failed (see $dir/cc.log)"
	fi
	if [ -z "$reason" ]; then
		( cd "$dir" && timeout "$pan_timeout" ./pan -m$depth -w20 ) \
			>"$dir/pan.log" 2>&1 || reason="pan failed or timed out (exit $?)"
	fi

	local log="$dir/pan.log"
	if [ -z "$reason" ]; then
		if ! grep -q 'State-vector' "$log"; then
			reason="pan printed no summary"
		elif grep -q 'max search depth too small' "$log"; then
			reason="max search depth too small"
		fi
	fi
	if [ -z "$reason" ]; then
		case $expect in
		ok)
			if grep -q 'assertion violated' "$log"; then
				reason="unexpected assertion violation"
			elif ! grep -q 'errors: 0' "$log"; then
				reason="pan reported errors ($(grep -m1 '^pan:' "$log"))"
			elif grep -q 'Search not completed' "$log"; then
				reason="incomplete search"
			fi
			;;
		bad)
			if ! grep -q 'assertion violated' "$log"; then
				if grep -q 'errors: 0' "$log"; then
					reason="no violation found"
				else
					reason="error is not an assertion ($(grep -m1 '^pan:' "$log"))"
				fi
			fi
			;;
		esac
	fi

	if [ -z "$reason" ]; then
		if [ "$expect" = ok ]; then
			verdict="PASS (no violation)"
		else
			verdict="PASS (violation found, as expected)"
		fi
	else
		failures=$((failures + 1))
		verdict="FAIL ($reason)"
	fi
	printf '%-14s %-22s %s\n' "$name" "$label" "$verdict"
}

run add.pml          ok
run add.pml          bad -DNO_WMB
run add.pml          bad -DNO_RMB
run add.pml          bad -DREACH

run delete.pml       ok
run delete.pml       bad -DNO_GP
run delete.pml       bad -DNO_RMB
run delete.pml       bad -DREACH
run delete.pml       bad -DREACH_WAIT

run three_thread.pml ok
run three_thread.pml bad -DNO_WMB
run three_thread.pml bad -DNONCUMULATIVE
run three_thread.pml bad -DNO_RMB
run three_thread.pml bad -DNO_PUBLISH_RELEASE
run three_thread.pml bad -DREACH
run three_thread.pml bad -DREACH_SPLIT

run add_flagset.pml  ok
run add_flagset.pml  bad -DNO_WMB
run add_flagset.pml  bad -DNO_RMB
run add_flagset.pml  bad -DREACH
run add_flagset.pml  bad -DREACH_SKIP

run probe.pml        ok
run probe.pml        bad -DNO_RELEASE
run probe.pml        bad -DNO_ACQUIRE
run probe.pml        bad -DREACH

run rebuild.pml      ok
run rebuild.pml      bad -DNO_TABLE_RELEASE
run rebuild.pml      bad -DNO_TABLE_ACQUIRE
run rebuild.pml      bad -DREACH

run unmap_claim.pml  ok
run unmap_claim.pml  bad -DCAS_CLAIM
run unmap_claim.pml  bad -DREACH

run wait_slots.pml   ok
run wait_slots.pml   bad -DUNLOCKED_SKIP
run wait_slots.pml   bad -DREACH

run wait_caps.pml    ok
run wait_caps.pml    bad -DNO_F1
run wait_caps.pml    bad -DNO_F2
run wait_caps.pml    bad -DREACH

run run_cache.pml    ok
run run_cache.pml    bad -DNO_B1
run run_cache.pml    bad -DNO_B2
run run_cache.pml    bad -DREACH
run run_cache.pml    bad -DREACH_SHUT
run run_cache.pml    ok  -DWAITER
run run_cache.pml    bad -DWAITER_NO_B1
run run_cache.pml    ok  -DWAITER_NO_B2
run run_cache.pml    bad -DWAITER_REACH

if [ "$failures" -ne 0 ]; then
	echo "check.sh: $failures of $runs runs did not give the expected verdict"
	exit 1
fi
echo "check.sh: all $runs runs as expected"
exit 0
