#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Print the include graph and the call graph between the files of src/,
# and fail when either has a loop other than the one the design allows.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: scripts/src-graph.sh [--help] [--dot]

Prints two graphs of libswiotlb's src/:
  includes  which file #includes which header of src/ (quoted includes);
  calls     which .c file calls (or reads a variable of) which other .c
            file, found from the symbols each object file defines and
            needs (every src/*.c is compiled into a temporary directory
            with $CC, default cc; nm reads the objects).

Exits 1 when the include graph has a loop, or when the call graph has a
loop other than the allowed one: mem.c starts and stops the resize thread
(resize.c), which adds and removes pools (mem.c).  The allowed edge
resize.c -> mem.c is left out of the loop check, and only that one.

  --dot   print the call graph in Graphviz dot format instead
  --help  this text

Run from the top of the source tree (or anywhere: it finds it).
EOF
}

dot=0
for arg in "$@"; do
	case $arg in
	--help | -h) usage; exit 0 ;;
	--dot) dot=1 ;;
	*) echo "src-graph.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
	esac
done

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
allowed="resize.c mem.c"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- includes ----
: >"$tmp/inc"
for f in src/*.c src/*.h; do
	b=$(basename "$f")
	grep -o '^#include "[^"]*"' "$f" | sed 's/^#include "\(.*\)"/\1/' |
		while read -r h; do
			[ -e "src/$h" ] && echo "$b $h"
		done >>"$tmp/inc" || true
done

# ---- calls: defined and undefined symbols per object ----
for f in src/*.c; do
	b=$(basename "$f" .c)
	${CC:-cc} -std=gnu11 -D_GNU_SOURCE -DSWIOTLB_BUILDING -Iinclude -Isrc -c "$f" \
		-o "$tmp/$b.o"
	nm --defined-only "$tmp/$b.o" | awk -v f="$b.c" '$2 ~ /^[TDBR]$/ { print $3, f }' \
		>>"$tmp/defs"
	nm --undefined-only "$tmp/$b.o" | awk -v f="$b.c" '{ print f, $2 }' >>"$tmp/uses"
done
awk 'NR == FNR { def[$1] = $2; next }
     ($2 in def) && def[$2] != $1 { print $1, def[$2] }' "$tmp/defs" "$tmp/uses" |
	sort -u >"$tmp/calls"

if [ $dot = 1 ]; then
	echo 'digraph src {'
	awk '{ printf "\t\"%s\" -> \"%s\";\n", $1, $2 }' "$tmp/calls"
	echo '}'
else
	echo "# includes (file: headers of src/ it includes)"
	awk '{ a[$1] = a[$1] " " $2 } END { for (k in a) print k ":" a[k] }' "$tmp/inc" | sort
	echo
	echo "# calls (file: files whose functions or variables it uses)"
	for f in src/*.c; do
		b=$(basename "$f")
		printf '%s:' "$b"
		awk -v f="$b" '$1 == f { printf " %s", $2 }' "$tmp/calls"
		echo
	done
fi

rc=0
if ! tsort "$tmp/inc" >/dev/null 2>"$tmp/err"; then
	echo "src-graph.sh: the include graph has a loop:" >&2
	cat "$tmp/err" >&2
	rc=1
fi
grep -v -x "$allowed" "$tmp/calls" >"$tmp/calls.checked" || true
if ! tsort "$tmp/calls.checked" >/dev/null 2>"$tmp/err"; then
	echo "src-graph.sh: the call graph has a loop besides $allowed:" >&2
	cat "$tmp/err" >&2
	rc=1
fi
exit $rc
