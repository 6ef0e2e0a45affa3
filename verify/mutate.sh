#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Mutation check of the memory-ordering barriers (see verify/README.md).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage() {
	cat <<'USAGE'
usage: verify/mutate.sh [-m MODEL] [-l]
Weakens, one at a time, each acquire, release, acq_rel or seq_cst order and
each fence in src/ to relaxed, and each grace period to none (each call
of _swiotlb_rcu_synchronize() before a free -> nothing), then runs every
harness of verify/run.sh that is expected to pass.  A mutation is caught
when some harness then fails.  Prints a table mutation -> caught by.
A mutation in code that is not compiled under SWIOTLB_MODEL_CHECK is
listed as n/a.
  -m MODEL  rc11 (default) or imm, or "rc11 imm"
  -l        list the mutations only
  -o REGEX  only the mutations whose file:line matches REGEX (e.g. 'map.c')
  -a        run every harness on each mutation (default: stop at the first
            harness that catches it)
A barrier whose comment says "mutate:keep" (within 6 lines above it) is
listed as kept and not run: the comment says why no harness can need it.
Exit status: 0 when every compiled mutation is caught, 1 otherwise.
Takes about 20 s per mutation and model on one core.
USAGE
}
models=rc11
list=0
only=.
all=0
while getopts "ahm:lo:" o; do
	case $o in
	h) usage; exit 0 ;;
	m) models=$OPTARG ;;
	l) list=1 ;;
	o) only=$OPTARG ;;
	a) all=1 ;;
	*) usage >&2; exit 2 ;;
	esac
done
src=$(cd "$here/../src" && pwd)
inc=$(cd "$here/../include" && pwd)
# every harness expected to pass under RC11, the slow ones too (they run
# only until one catches the mutation, and a caught one fails fast)
pass_harnesses=$(sed -n 's/^\t\([a-z_0-9]*\)|[^|]*|[^|]*|pass|\(slow:\)\{0,1\}pass$/\1/p' "$here/run.sh")
slow_harnesses=$(sed -n 's/^\t\([a-z_0-9]*\)|[^|]*|[^|]*|slow:pass|\(slow:\)\{0,1\}pass$/\1/p' "$here/run.sh")
pass_harnesses="$pass_harnesses $slow_harnesses" # the slow ones last
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# mutations: file|line|sed expression applied to that line|label
mutations() {
	grep -n -E 'memory_order_(acquire|release|acq_rel|seq_cst)' "$src"/*.c "$src"/*.h |
		grep -v -E '^[^:]*:[0-9]+:\s*(/?\*|//)' |
		while IFS=: read -r f l text; do
			ord=$(echo "$text" | grep -o -E 'memory_order_(acquire|release|acq_rel|seq_cst)' |
			      head -n 1)
			what=$(echo "$text" | sed -E 's/^\s+//' | cut -c1-60)
			echo "$(basename "$f")|$l|s/$ord/memory_order_relaxed/|${ord#memory_order_} -> relaxed: $what"
		done
	grep -n '_swiotlb_rcu_synchronize();' "$src"/*.c | grep -v 'void _swiotlb_rcu_synchronize' |
		while IFS=: read -r f l _; do
			echo "$(basename "$f")|$l|s/_swiotlb_rcu_synchronize();/;/|grace period -> none (no wait before the free)"
		done
}

preprocess() { # dir -> preprocessed model build of every src file
	local d=$1
	for f in "$d"/*.c; do
		case $(basename "$f") in log.c | fork.c | devcount.c | provider*.c) continue ;; esac
		clang-14 -E -P -w -DSWIOTLB_MODEL_CHECK -DSWIOTLB_BUILDING -DSWIOTLB_MODEL_SEG_SLOTS=4 \
			-DSWIOTLB_LOOKUP_MIN_BUCKETS=4 \
			-I/var/cache/genmc-0.10.3/include -I"$here" -I"$inc" -I"$d" "$f" 2>/dev/null || true
	done | md5sum
}

if [ $list = 1 ]; then
	mutations | awk -F'|' '{ printf "%s:%s  %s\n", $1, $2, $4 }'
	exit 0
fi
base=$(preprocess "$src")
missed=0
n=0
printf '%-16s %-62s %s\n' where mutation "caught by"
while IFS='|' read -r file line expr label; do
	echo "$file:$line" | grep -q -E -- "$only" || continue
	n=$((n + 1))
	# a barrier whose comment (within 6 lines above) says "mutate:keep"
	# is one no harness can need, for the reason given there
	if sed -n "$((line > 6 ? line - 6 : 1)),${line}p" "$src/$file" | grep -q 'mutate:keep'; then
		printf '%-16s %-62s %s\n' "$file:$line" "$label" "kept (mutate:keep, see its comment)"
		continue
	fi
	rm -rf "$tmp/src"
	cp -r "$src" "$tmp/src"
	sed -i "${line}${expr}" "$tmp/src/$file"
	if [ "$(preprocess "$tmp/src")" = "$base" ]; then
		printf '%-16s %-62s %s\n' "$file:$line" "$label" "n/a (not in the model build)"
		continue
	fi
	caught=""
	for m in $models; do
		c=""
		for h in $pass_harnesses; do
			out=$(VERIFY_SLOW=1 SWIOTLB_SRC="$tmp/src" "$here/run.sh" -q -m "$m" "$h" </dev/null || true)
			if echo "$out" | grep -q MISMATCH; then
				c="$c$h "
				# move to front: mutations come file by file, and
				# the harness that caught one likely catches the next
				# (not a slow one: it would cost minutes when it passes)
				if ! echo " $slow_harnesses " | grep -q " $h "; then
					pass_harnesses="$h $(echo " $pass_harnesses " | sed "s/ $h / /")"
				fi
				[ $all = 1 ] || break
			fi
		done
		[ -n "$c" ] && caught="$caught$m: $c"
	done
	if [ -z "$caught" ]; then
		caught="NOTHING"
		missed=$((missed + 1))
	fi
	printf '%-16s %-62s %s\n' "$file:$line" "$label" "$caught"
done < <(mutations)
echo "mutate: $((n - missed))/$n mutations caught or not in the model build"
[ $missed = 0 ]
