#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Model-check the real src/ with GenMC under RC11 and IMM (see verify/README.md).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage() {
	cat <<'USAGE'
usage: verify/run.sh [-q] [-m MODEL] [HARNESS...]
Compiles src/*.c (all but log.c, fork.c, devcount.c and provider*.c) with -DSWIOTLB_MODEL_CHECK and
one harness of verify/ into one translation unit, runs GenMC 0.10.3 on it
under RC11 and IMM, and compares with the expected result of that harness
("pass", or "FAIL" for a known bug not fixed yet). Builds GenMC first when
${GENMC_DIR:-/var/cache/genmc-0.10.3}/genmc is missing (about 10 minutes).
  -m MODEL   rc11 or imm only (default: both)
  -q         print only mismatches and the summary line
  HARNESS    names from the table below (default: all)
An expectation "slow:pass" is a run left out unless VERIFY_SLOW=1 (it
passed, but takes minutes: the run-cache harnesses under IMM).
Environment: SWIOTLB_SRC (default: the src/ next to verify/), GENMC_DIR,
  GENMC_TIMEOUT (seconds per run, default 300), VERIFY_SLOW.
Exit status: 0 when every run matched its expectation, 1 otherwise.
USAGE
	sed -n 's/^\t\([a-z_0-9]*\)|.*|\(.*\)|\(.*\)$/  \1 expected rc11=\2 imm=\3/p' "$0"
}
models="rc11 imm"
quiet=0
while getopts "hqm:" o; do
	case $o in
	h) usage; exit 0 ;;
	q) quiet=1 ;;
	m) models=$OPTARG ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
src=${SWIOTLB_SRC:-$here/../src}
src=$(cd "$src" && pwd)
inc=$(cd "$here/../include" && pwd)
genmc_dir=${GENMC_DIR:-/var/cache/genmc-0.10.3}
genmc="$genmc_dir/genmc"
if ! "$genmc" --version >/dev/null 2>&1; then
	genmc=$("$here/../../shared/tools/genmc/build.sh" "$genmc_dir" | tail -n 1)
fi

# name|extra compiler flags|extra genmc flags|expected rc11|expected imm
# (an expected FAIL is a harness that must fail: it removes a barrier the
# code needs and shows the counterexample)
table() {
	cat <<'TABLE'
	add|||pass|pass
	add_shared|||pass|pass
	delete_self|||pass|pass
	delete_other|||pass|pass
	delete_other_nofence|-DMODEL_RCU_NO_READER_FENCE||FAIL|FAIL
	three_thread|||pass|pass
	index|||pass|pass
	unmap_race|||pass|pass
	unmap_race_nosync|-DRACE_TO_DEVICE||pass|pass
	set_readers|||pass|pass
	unmap_aba|||pass|pass
	wait_wake||--check-liveness|pass|pass
	wait_caps|-DMODEL_RCU_NO_READER_FENCE -DH_NO_RUN_CACHE -DSWIOTLB_MODEL_RUN_CACHE=0|--check-liveness|pass|pass
	cache_steal|||pass|slow:pass
	cache_steal_nofence|-DMODEL_RUNCACHE_NO_FENCES||FAIL|FAIL
	cache_wait||--check-liveness|pass|slow:pass
	cache_wait_nofence|-DMODEL_RUNCACHE_NO_FENCES|--check-liveness|FAIL|FAIL
	cache_aba|-DSWIOTLB_MODEL_TAG_GEN_BITS=1||pass|slow:pass
	cache_aba_locked|-DSWIOTLB_MODEL_TAG_GEN_BITS=1 -DABA_LOCKED||pass|pass
	cache_aba_area|-DSWIOTLB_MODEL_TAG_GEN_BITS=1 -DABA_AREA||slow:pass|slow:pass
TABLE
}
harness_src() { # a variant reuses its base harness's file
	case $1 in
	delete_other_nofence) echo delete_other ;;
	unmap_race_nosync) echo unmap_race ;;
	cache_steal_nofence) echo cache_steal ;;
	cache_wait_nofence) echo cache_wait ;;
	cache_aba_locked | cache_aba_area) echo cache_aba ;;
	*) echo "$1" ;;
	esac
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
want=("$@")
bad=0
total=0
printf '%-22s %-5s %-9s %-9s %7s  %s\n' harness model expected result time detail
while IFS='|' read -r name cflags gflags e_rc11 e_imm; do
	name=${name//[[:space:]]/}
	[ -n "$name" ] || continue
	if [ ${#want[@]} -gt 0 ] && [[ " ${want[*]} " != *" $name "* ]]; then
		continue
	fi
	tu="$tmp/tu_$name.c"
	{
		echo "#include \"model_env.c\""
		for f in "$src"/*.c; do
			case $(basename "$f") in log.c | fork.c | devcount.c | provider*.c) continue ;; esac
			echo "#include \"$f\""
		done
		echo "#include \"$here/$(harness_src "$name").c\""
	} >"$tu"
	for m in $models; do
		exp=$e_rc11
		[ "$m" = imm ] && exp=$e_imm
		if [ "${exp#slow:}" != "$exp" ]; then
			[ -n "${VERIFY_SLOW:-}" ] || continue
			exp=${exp#slow:}
		fi
		t0=$(date +%s.%N)
		set +e
		# shellcheck disable=SC2086
		timeout "${GENMC_TIMEOUT:-300}" "$genmc" --"$m" --disable-ipr --disable-sr \
			--disable-warn-on-unfreed-memory --disable-estimation $gflags -- \
			-w -DSWIOTLB_MODEL_CHECK -DSWIOTLB_BUILDING -DSWIOTLB_MODEL_SEG_SLOTS=4 \
			-DSWIOTLB_LOOKUP_MIN_BUCKETS=4 $cflags -I"$here" -I"$inc" -I"$src" \
			"$tu" </dev/null >"$tmp/out" 2>&1
		rc=$?
		set -e
		t=$(awk -v a="$t0" -v b="$(date +%s.%N)" "BEGIN { print b - a }")
		if grep -q '^No errors were detected' "$tmp/out"; then
			res=pass
			detail=$(grep -m1 'executions explored' "$tmp/out" | sed "s/Number of complete //" || true)
		elif grep -q '^Error' "$tmp/out"; then
			res=FAIL
			detail=$( (grep -m1 '^Assertion violation' "$tmp/out" ||
				   grep -m1 '^Error' "$tmp/out") | cut -c1-90 || true)
		else
			res="error($rc)"
			detail=$(grep -m1 -i 'error' "$tmp/out" | cut -c1-90 || true)
		fi
		total=$((total + 1))
		mark=""
		[ -n "${VERIFY_KEEP:-}" ] && cp "$tmp/out" "${VERIFY_KEEP}/$name.$m.out"
		if [ "$res" != "$exp" ]; then
			bad=$((bad + 1))
			mark=" <-- MISMATCH"
		fi
		if [ $quiet = 0 ] || [ -n "$mark" ]; then
			printf '%-22s %-5s %-9s %-9s %6.1fs  %s%s\n' "$name" "$m" "$exp" "$res" "$t" \
				"$detail" "$mark"
		fi
	done
done < <(table)
echo "verify: $((total - bad))/$total runs as expected"
[ $bad = 0 ]
