#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The README works as written:
#   1. its Quick start code block is examples/quickstart.c, verbatim (that
#      file is built and run by ctest, so the README's code cannot rot);
#   2. every build/PATH it names exists in BUILD_DIR after a full build
#      (scripts/demo.sh builds everything into build/).
#   usage: scripts/readme-check.sh BUILD_DIR
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: readme-check.sh BUILD_DIR}
readme=$top/README.md
fail=0
block=$(awk '/^## Quick start/ { q = 1 } q && /^```c$/ { c = 1; next } c && /^```$/ { exit } c' "$readme")
if [ "$block" != "$(cat "$top/examples/quickstart.c")" ]; then
	echo "readme-check: the Quick start block differs from examples/quickstart.c:" >&2
	diff <(printf '%s\n' "$block") "$top/examples/quickstart.c" >&2 || true
	fail=1
fi
for p in $(grep -o -E '\bbuild/[A-Za-z0-9_./-]+[A-Za-z0-9_-]' "$readme" | sort -u); do
	rel=${p#build/}
	if [ ! -e "$build/$rel" ]; then
		echo "readme-check: README names $p, but $build/$rel does not exist" >&2
		fail=1
	fi
done
[ $fail = 0 ] && echo "readme-check: quick start verbatim, every build/ path exists"
exit $fail
