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
busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
# Runs one set; also records how much CPU other processes used meanwhile
# (this machine is shared), in $raw/<name>.other_cpu (fraction of all CPUs).
step() {
  local name=$1; shift
  echo "== $name: swiotlb-bench $*" | tee -a "$log"
  local b0 t0 b1 t1 own hz ncpu
  b0=$(busy); t0=$(date +%s.%N)
  local timer=()
  [ -x /usr/bin/time ] && timer=(/usr/bin/time -f '%U %S' -o "$raw/$name.time")
  rm -f "$raw/$name.time"
  "${timer[@]}" "$bin" "$@" --json "$raw/$name.json" 2>&1 | tee -a "$log" | grep -E '^(median|lookup|growth|#)' || true
  b1=$(busy); t1=$(date +%s.%N)
  python3 -m json.tool "$raw/$name.json" > /dev/null
  hz=$(getconf CLK_TCK); ncpu=$(nproc)
  if [ ! -s "$raw/$name.time" ]; then rm -f "$raw/$name.other_cpu"; return; fi
  own=$(awk '{print $1+$2}' "$raw/$name.time")
  python3 -c "import sys; b0,b1,t0,t1,own,hz,n=map(float,sys.argv[1:]); print('%.3f' % max(0.0, ((b1-b0)/hz-own)/((t1-t0)*n)))" \
    "$b0" "$b1" "$t0" "$t1" "$own" "$hz" "$ncpu" > "$raw/$name.other_cpu"
  echo "   other processes used $(cat "$raw/$name.other_cpu") of the CPUs meanwhile" | tee -a "$log"
}
# latency vs size, every peer, 1 thread, to device
step sizes   --compare -q -t 1 -d 1 -g 512b,2k,4k,16k,64k,256k -r "$runs" -s "$secs"
# the kernel's placement (forward-only cursor) against memcpy cycling
step strict  --peers swiotlb,memcpy --strict-cursor -q -t 1 -d 1 -g 2k,64k -r "$runs" -s "$secs"
# throughput vs threads at 2 KiB
step threads --compare -q -t 1,2 -d 1 -g 2k -r "$runs" -s "$secs"
# unmap on another thread than the map
step cross   --compare -q --cross -t 2 -d 1 -g 2k -r "$runs" -s "$secs"
# address lookup, 1..4096 pools
step lookup  --lookup -r "$runs" -s 0.4
# growth: ramp to 4x the initial pool
step growth  --growth -t 1 -d 1 -g 4k -s 3
python3 "$here/summarize.py" "$raw" --json "$here/results/summary.json" | tee "$here/results/summary.md"
