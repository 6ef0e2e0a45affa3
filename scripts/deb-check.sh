#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Debian packaging check: copy the tree (tracked and new files) to a scratch
# directory, build the binary packages (dpkg-buildpackage -us -uc -b), run
# lintian on them (any error or warning fails), install them, build and run
# the external consumer against the installed package (tests/consumer), run
# the installed demo, then remove the packages again.
# Needs root (dpkg -i) and debhelper, lintian, help2man (scripts/deps.sh).
# Environment: KEEP=1 keeps the scratch directory (printed).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/swiotlb-deb.XXXXXX)
cleanup() {
	dpkg -r swiotlb-tools libswiotlb-dev libswiotlb1 >/dev/null 2>&1 || true
	[ -n "${KEEP:-}" ] && echo "deb-check: kept $work" || rm -rf "$work"
}
trap cleanup EXIT
t0=$(date +%s)
mkdir "$work/src"
(cd "$root" && git ls-files -co --exclude-standard -z |
	xargs -0 -I{} cp --parents -d {} "$work/src/" 2>/dev/null || true)
cd "$work/src"
echo "deb-check: building packages in $work"
DEB_BUILD_OPTIONS="parallel=${JOBS:-2}" dpkg-buildpackage -us -uc -b > "$work/build.log" 2>&1 ||
	{ tail -40 "$work/build.log"; echo "deb-check: dpkg-buildpackage failed" >&2; exit 1; }
cd "$work"
ls -1 ./*.deb
echo "deb-check: lintian"
lintian --fail-on error,warning --suppress-tags-from-file "$root/debian/lintian-ignore" \
	./*.changes || { echo "deb-check: lintian failed" >&2; exit 1; }
echo "deb-check: installing"
dpkg -i ./libswiotlb1_*.deb ./libswiotlb-dev_*.deb ./swiotlb-tools_*.deb >/dev/null
[ "$(pkg-config --modversion libswiotlb)" = "$(dpkg-query -W -f='${Version}' libswiotlb1 | sed 's/-.*//')" ]
readelf -d "$(command -v swiotlb-demo)" | grep -q RUNPATH && { echo "deb-check: packaged tool has a RUNPATH" >&2; exit 1; }
swiotlb-demo --seconds 0.2 --quiet >/dev/null
bash "$root/tests/consumer/run.sh" /usr
echo "deb-check: passed in $(( $(date +%s) - t0 )) s"
