#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench_frag_smoke: a short swiotlb-bench --frag run (4 MiB pool, two
# occupancies, every mix but the trace one), its JSON parses and has one
# result per mix, placement and occupancy; bad options are refused.
# Success rates are never checked here (tests/unit/test_segments.c checks
# the placement property on a fixed scenario).
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" --frag -p 4m --frag-ops 300 --occupancy 50,80 --json "$tmp/frag.json" > "$tmp/frag.out"
python3 - "$tmp/frag.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["config"]["mode"] == "frag", d["config"]
r = d["results"]
mixes = sorted({x["mix"] for x in r})
assert mixes == ["mixed", "net", "nvme", "nvme-odd"], mixes
assert len(r) == 4 * 2 * 2, len(r)
for x in r:
    assert x["placement"] in ("strict_cursor", "default"), x
    assert x["probes"] == 300 // 50 and 0 <= x["probe_ok"] <= x["probes"], x
PY
for bad in "--mix nosuch" "--mix trace" "--occupancy 0" "--occupancy 100" "--frag-ops 5" \
	   "--segment-slots 100" "--trace /nonexistent.csv"; do
	# shellcheck disable=SC2086
	if "$bin" --frag -p 4m --frag-ops 100 $bad > "$tmp/bad.out" 2>&1; then
		echo "bench_frag_smoke: '$bad' was accepted" >&2
		exit 1
	fi
done
echo "bench_frag_smoke: ok"
