#!/usr/bin/env bash
# make bench-plot: PNG charts from bench/results/raw/*.json into docs/img/
# (needs gnuplot-nox and python3).  Run `make bench` first.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
raw=$here/results/raw
img=$here/../docs/img
if ! command -v gnuplot > /dev/null; then
  echo "plot.sh: gnuplot not found (apt-get install gnuplot-nox)" >&2
  exit 1
fi
# the fragmentation run (swiotlb-bench --frag) may be the only result:
# raw/frag.json, else the committed results/frag.json
frag=$raw/frag.json
[ -f "$frag" ] || frag=$here/results/frag.json
if [ ! -f "$raw/sizes.json" ] && [ ! -f "$frag" ]; then
  echo "plot.sh: no results in $raw; run 'make bench' first" >&2
  exit 1
fi
mkdir -p "$img"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# JSON -> gnuplot data files (one block per peer/method)
python3 - "$raw" "$tmp" "$frag" <<'PY'
import json, os, sys
raw, tmp, frag = sys.argv[1], sys.argv[2], sys.argv[3]
def load(n):
    try:
        with open(os.path.join(raw, n + ".json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
def peers_of(doc):
    seen = []
    for r in doc["results"]:
        if r["peer"] not in seen:
            seen.append(r["peer"])
    return seen
d = load("sizes")
if d:
    with open(os.path.join(tmp, "sizes.dat"), "w") as f:
        for p in peers_of(d):
            f.write('"%s"\n' % p)
            for r in d["results"]:
                if r["peer"] == p and r["median"]["ops_per_s"]:
                    f.write("%d %g %g\n" % (r["size"], 1e9 / r["median"]["ops_per_s"],
                                             r["median"]["op"].get("p99_ns", 0)))
            f.write("\n\n")
d = load("threads")
if d:
    with open(os.path.join(tmp, "threads.dat"), "w") as f:
        for p in peers_of(d):
            f.write('"%s"\n' % p)
            for r in d["results"]:
                if r["peer"] == p:
                    f.write("%d %g\n" % (r["threads"], r["median"]["ops_per_s"] / 1e6))
            f.write("\n\n")
d = load("lookup")
if d:
    with open(os.path.join(tmp, "lookup.dat"), "w") as f:
        for m in ("swiotlb", "linear", "critnib", "swiotlb-never-bounced", "call-baseline"):
            if m not in d["lookup"][0]:
                continue
            f.write('"%s"\n' % m)
            for e in d["lookup"]:
                f.write("%d %g %g\n" % (e["ranges"], e[m]["live_ns"], e[m]["non_bounce_ns"]))
            f.write("\n\n")
d = load("growth")
if d:
    g = d["growth"]
    with open(os.path.join(tmp, "growth.dat"), "w") as f:
        for s in g["timeline"]:
            mib = 2048 / 1048576.0
            f.write("%g %g %g %g %g %g %d\n" % (s["t"], s["target_bytes"] / 1048576.0,
                    s["used_slots"] * mib, s["total_slots"] * mib,
                    s["transient_slots"] * mib, s["pool_bytes"] / 1048576.0,
                    s["pools"] + s["transient_pools"]))
    with open(os.path.join(tmp, "growth.y2max"), "w") as f:
        f.write("%d" % (max(s["pools"] + s["transient_pools"] for s in g["timeline"]) + 2))
    with open(os.path.join(tmp, "growth.title"), "w") as f:
        f.write("Pool occupancy during the growth run (initial pool %g MiB, %d B mappings)" % (
            g["initial_pool_bytes"] / 1048576.0, g["size"]))
if os.path.exists(frag):
    with open(frag) as fh:
        d = json.load(fh)
    mixes = []
    for r in d["results"]:
        if r["mix"] not in mixes:
            mixes.append(r["mix"])
    with open(os.path.join(tmp, "frag.dat"), "w") as f:
        for pl in ("default", "strict_cursor"):
            for m in mixes:
                f.write('"%s, %s"\n' % (m, "kernel (strict_cursor)" if pl != "default" else "default"))
                for r in d["results"]:
                    if r["mix"] == m and r["placement"] == pl:
                        f.write("%d %g\n" % (r["target_pct"], r["probe_success_pct"]))
                f.write("\n\n")
    with open(os.path.join(tmp, "frag.n"), "w") as f:
        f.write("%d" % len(mixes))
PY

common='set terminal pngcairo size 900,560 noenhanced font "sans,10"; set grid; set key top left'
if [ -f "$tmp/sizes.dat" ]; then
  gnuplot -e "$common; set output '$img/latency_vs_size.png';
    set title 'map+unmap time per operation vs size (1 thread, to device; median of runs)';
    set logscale xy 2; set xtics ('512' 512, '1k' 1024, '2k' 2048, '4k' 4096, '8k' 8192, '16k' 16384, '32k' 32768, '64k' 65536, '128k' 131072, '256k' 262144);
    set xlabel 'mapping size (bytes)'; set ylabel 'ns per map+unmap';
    plot for [i=0:*] '$tmp/sizes.dat' index i using 1:2 with linespoints title columnheader(1)"
fi
if [ -f "$tmp/threads.dat" ]; then
  gnuplot -e "$common; set output '$img/throughput_vs_threads.png';
    set title 'throughput vs threads (2 KiB, to device; median of runs)';
    set xlabel 'threads'; set ylabel 'Mops/s (map+unmap)'; set xtics 1;
    set yrange [0:*];
    plot for [i=0:*] '$tmp/threads.dat' index i using 1:2 with linespoints title columnheader(1)"
fi
if [ -f "$tmp/lookup.dat" ]; then
  gnuplot -e "$common; set output '$img/lookup_vs_pools.png';
    set title 'address lookup cost vs number of pools (solid: live addresses, dashed: non-bounce)';
    set logscale xy; set xlabel 'pools'; set ylabel 'ns per lookup'; set key top left;
    plot for [i=0:*] '$tmp/lookup.dat' index i using 1:2 with linespoints lc (i+1) dt 1 title columnheader(1),
         for [i=0:*] '$tmp/lookup.dat' index i using 1:3 with linespoints lc (i+1) dt 2 notitle"
fi
if [ -f "$tmp/growth.dat" ]; then
  title=$(cat "$tmp/growth.title"); y2max=$(cat "$tmp/growth.y2max")
  gnuplot -e "$common; set output '$img/growth_occupancy.png';
    set title '$title'; set xlabel 'seconds'; set ylabel 'MiB'; set y2label 'pools (shared + transient)';
    set ytics nomirror; set y2tics; set y2range [0:$y2max]; set yrange [0:*];
    plot '$tmp/growth.dat' using 1:3 with lines lw 3 title 'used (shared pools)',
         '' using 1:4 with lines lw 2 title 'total (shared pools)',
         '' using 1:5 with lines lw 2 title 'in transient pools',
         '' using 1:2 with lines dt 2 lw 2 lc rgb 'black' title 'target live bytes',
         '' using 1:7 axes x1y2 with steps title 'pools (right axis)'"
fi
if [ -f "$tmp/frag.dat" ]; then
  n=$(cat "$tmp/frag.n")
  gnuplot -e "$common; set output '$img/frag_max_map.png';
    set title 'maximum-size maps that succeed vs pool occupancy (64 MiB, 1 area; solid: default, dashed: kernel placement)';
    set xlabel 'target occupancy (%)'; set ylabel '% of max-size maps that succeed';
    set yrange [-2:102]; set key bottom left;
    plot for [i=0:$n-1] '$tmp/frag.dat' index i using 1:2 with linespoints lc (i+1) dt 1 lw 2 title columnheader(1),
         for [i=$n:2*$n-1] '$tmp/frag.dat' index i using 1:2 with linespoints lc (i-$n+1) dt 2 title columnheader(1)"
fi
ls -l "$img"/*.png
