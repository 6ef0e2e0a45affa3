#!/usr/bin/env bash
# bench_smoke: run swiotlb-bench for ~0.3 s and check that its JSON parses.
# Timings are never checked.
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" -s 0.3 -w 0.01 -g 2k --json "$tmp/map.json" > "$tmp/map.out"
python3 -m json.tool "$tmp/map.json" > /dev/null
# the other modes, very briefly
"$bin" -s 0.02 -w 0 -p 4m -g 2k -t 2 --cross --compare -q --json "$tmp/cross.json" > "$tmp/cross.out"
python3 -m json.tool "$tmp/cross.json" > /dev/null
"$bin" --lookup --lookup-pools 1,8 -s 0.02 --json "$tmp/lookup.json" > "$tmp/lookup.out"
python3 -m json.tool "$tmp/lookup.json" > /dev/null
"$bin" --growth -p 256k -g 4k -s 0.1 --json "$tmp/growth.json" > "$tmp/growth.out"
python3 -m json.tool "$tmp/growth.json" > /dev/null
echo "bench_smoke: ok"
