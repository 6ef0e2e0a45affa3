#!/usr/bin/env bash
# Standard benchmark set (make bench): bash bench/run.sh <builddir>
# Writes raw JSON to bench/results/raw/ and the target table to
# bench/results/summary.{json,md}.  Takes about two minutes.
# Environment: RUNS (default 5), SECS (seconds per run, default 0.2).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
bin=$build/bench/swiotlb-bench
if [ ! -x "$bin" ]; then
  echo "run.sh: $bin not found (build first; needs libjemalloc-dev and libcritnib-dev)" >&2
  exit 1
fi
runs=${RUNS:-5}
secs=${SECS:-0.2}
raw=$here/results/raw
mkdir -p "$raw"
log=$raw/run.log
: > "$log"
step() {
  local name=$1; shift
  echo "== $name: swiotlb-bench $*" | tee -a "$log"
  "$bin" "$@" --json "$raw/$name.json" 2>&1 | tee -a "$log" | grep -E '^(median|lookup|growth|#)' || true
  python3 -m json.tool "$raw/$name.json" > /dev/null
}
# latency vs size, every peer, 1 thread, to device
step sizes   --compare -q -t 1 -d 1 -g 512b,2k,4k,16k,64k,256k -r "$runs" -s "$secs"
# throughput vs threads at 2 KiB
step threads --compare -q -t 1,2 -d 1 -g 2k -r "$runs" -s "$secs"
# unmap on another thread than the map
step cross   --compare -q --cross -t 2 -d 1 -g 2k -r "$runs" -s "$secs"
# address lookup, 1..4096 pools
step lookup  --lookup -r "$runs" -s 0.4
# growth: ramp to 4x the initial pool
step growth  --growth -t 1 -d 1 -g 4k -s 3
python3 "$here/summarize.py" "$raw" --json "$here/results/summary.json" | tee "$here/results/summary.md"
