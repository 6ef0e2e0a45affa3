#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Print the issue's benchmark targets as a Markdown table with the measured
ratio and PASS/MISS, from the JSON that bench/run.sh writes.

usage: summarize.py [RAWDIR] [--json OUT]

Ratios are medians of per-run ratios: runs of every configuration are
interleaved in one invocation, so run i of swiotlb is paired with run i of
each peer.
"""
import json
import os
import statistics
import sys


def load(d, name):
    p = os.path.join(d, name + ".json")
    try:
        with open(p) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def series(doc, peer, size, threads):
    if not doc:
        return None
    for r in doc.get("results", []):
        if r["peer"] == peer and r["size"] == size and r["threads"] == threads:
            return r
    return None


# Which throughput to use: wall-clock ops/s (the default), or ops per
# second of thread CPU time when the machine was busy with other work
# (set by main(); see --metric).
METRIC = "ops_per_s"


def run_ops(s):
    return [r.get(METRIC) or r["ops_per_s"] for r in s["runs"]]


def paired(a, b, f):
    """median over runs of f(a_run, b_run)"""
    if not a or not b:
        return None
    va, vb = run_ops(a), run_ops(b)
    n = min(len(va), len(vb))
    vals = [f(va[i], vb[i]) for i in range(n) if va[i] > 0 and vb[i] > 0]
    return statistics.median(vals) if vals else None


def lookup_entry(doc, pools):
    if not doc:
        return None
    for e in doc.get("lookup", []):
        if e["pools_requested"] == pools:
            return e
    return None


def med_ops(s):
    return s["median"].get(METRIC) or s["median"]["ops_per_s"]


def ns_per_op(s):
    if not s:
        return None
    return 1e9 / med_ops(s) if med_ops(s) else None


def main():
    global METRIC
    args = sys.argv[1:]
    out_json = None
    metric = "auto"
    if "--metric" in args:
        i = args.index("--metric")
        metric = args[i + 1]
        del args[i:i + 2]
    if "--json" in args:
        i = args.index("--json")
        out_json = args[i + 1]
        del args[i:i + 2]
    d = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "raw")
    sizes, threads, lookup, growth, cross, strict = (load(d, n) for n in
                                                     ("sizes", "threads", "lookup", "growth", "cross", "strict"))
    rows = []

    def other_cpu(name, doc):
        """share of the CPUs other processes used while set 'name' ran"""
        try:
            with open(os.path.join(d, name + ".other_cpu")) as f:
                return float(f.read())
        except (OSError, ValueError):  # fall back to the load average
            la = doc["machine"].get("loadavg_1min_at_start", 0) if doc else 0
            return max(0.0, (la - 1.0) / 2)

    if metric == "auto":
        metric = "cpu" if other_cpu("sizes", sizes) > 0.10 else "wall"
    METRIC = "cpu_ops_per_s" if metric == "cpu" else "ops_per_s"

    def add(target, measured, ok, detail, cmp_):
        rows.append({"target": target, "measured": measured,
                     "pass": bool(ok) if measured is not None else False,
                     "detail": detail, "limit": cmp_})

    def fmt(v, unit="x"):
        return "n/a" if v is None else ("%.2f%s" % (v, unit) if v < 100 else "%.0f%s" % (v, unit))

    # 1./2. time vs memcpy alone.  libswiotlb by default reuses the slots
    # it just freed (hot), so its physical limit is memcpy to a hot
    # destination ("memcpy-hot"); with --strict-cursor (the kernel's
    # forward-only cursor) every copy goes to a cold slot, and the matching
    # limit is "memcpy" cycling through a region of the pool's size.
    def vs_memcpy(size, goal, label):
        s_ = series(sizes, "swiotlb", size, 1)
        hot, cyc = series(sizes, "memcpy-hot", size, 1), series(sizes, "memcpy", size, 1)
        r = paired(s_, hot, lambda a, b: b / a)  # our time / memcpy time
        rc = paired(s_, cyc, lambda a, b: b / a)
        add("Map+unmap %s, to device, 1 thread: time vs memcpy alone (hot destination)" % label, r,
            r is not None and r <= goal,
            "swiotlb %s ns/op, memcpy-hot %s ns/op; vs memcpy cycling the pool size (%s ns/op): %s" % (
                fmt(ns_per_op(s_), ""), fmt(ns_per_op(hot), ""), fmt(ns_per_op(cyc), ""), fmt(rc)),
            "<= %.2fx" % goal)
        ss, sc = series(strict, "swiotlb", size, 1), series(strict, "memcpy", size, 1)
        if ss and sc:
            r = paired(ss, sc, lambda a, b: b / a)
            add("  same, kernel placement (--strict-cursor) vs memcpy cycling the pool size", r,
                r is not None and r <= goal,
                "swiotlb --strict-cursor %s ns/op, memcpy %s ns/op" % (
                    fmt(ns_per_op(ss), ""), fmt(ns_per_op(sc), "")), "<= %.2fx" % goal)
    vs_memcpy(65536, 1.10, "64 KiB")
    vs_memcpy(2048, 2.0, "2 KiB")
    s, j = series(sizes, "swiotlb", 2048, 1), series(sizes, "jemalloc", 2048, 1)
    r = paired(s, j, lambda a, b: a / b)  # our throughput / jemalloc's
    add("Map+unmap 2 KiB, 1 thread: throughput vs jemalloc peer", r,
        r is not None and r >= 1.0,
        "swiotlb %s ns/op, jemalloc %s ns/op (per-thread tcache), jemalloc-notcache %s ns/op" % (
            fmt(ns_per_op(s), ""), fmt(ns_per_op(j), ""),
            fmt(ns_per_op(series(sizes, "jemalloc-notcache", 2048, 1)), "")),
        ">= 1.0x")
    # 3. threads: always wall-clock (CPU time would hide lock waits)
    saved_metric = METRIC
    METRIC = "ops_per_s"
    oc = other_cpu("threads", threads)
    busy = (" (wall-clock; other processes used %.0f%% of the CPUs meanwhile, so not reliable)" % (100 * oc)
            if oc > 0.10 else " (wall-clock)")
    s1, s2 = series(threads, "swiotlb", 2048, 1), series(threads, "swiotlb", 2048, 2)
    f2 = series(threads, "firstfit", 2048, 2)
    r = paired(s2, s1, lambda a, b: a / b)
    add("2 KiB: 2 threads vs 1 thread throughput", r, r is not None and r >= 1.8,
        "1t %s Mops/s, 2t %s Mops/s" % (
            fmt(s1 and med_ops(s1) / 1e6, ""), fmt(s2 and med_ops(s2) / 1e6, "")),
        ">= 1.8x")
    r = paired(s2, f2, lambda a, b: a / b)
    add("2 KiB, 2 threads: throughput vs mutex first-fit peer", r, r is not None and r >= 2.0,
        "firstfit 2t %s Mops/s" % fmt(f2 and med_ops(f2) / 1e6, "") + busy, ">= 2.0x")
    rows[-2]["detail"] += busy
    METRIC = saved_metric
    # 4. lookup
    l1, l4k = lookup_entry(lookup, 1), lookup_entry(lookup, 4096)
    if l1 and l4k:
        ours1, ours = l1["swiotlb"]["live_ns"], l4k["swiotlb"]["live_ns"]
        lin, cn = l4k["linear"]["live_ns"], l4k["critnib"]["live_ns"]
        add("Lookup, 4096 pools: cost vs our 1-pool cost", ours / ours1, ours / ours1 <= 2.0,
            "%.2f ns vs %.2f ns (live addresses; non-bounce %.2f vs %.2f ns; %d pools)" % (
                ours, ours1, l4k["swiotlb"]["non_bounce_ns"], l1["swiotlb"]["non_bounce_ns"], l4k["ranges"]),
            "<= 2x")
        add("Lookup, 4096 pools: speed-up over linear walk", lin / ours, lin / ours >= 50,
            "linear %.0f ns (non-bounce %.0f ns)" % (lin, l4k["linear"]["non_bounce_ns"]), ">= 50x")
        add("Lookup, 4096 pools: speed-up over critnib find_le", cn / ours, cn / ours >= 2,
            "critnib %.2f ns (non-bounce %.2f ns)" % (cn, l4k["critnib"]["non_bounce_ns"]), ">= 2x")
        nv = max(max(e["swiotlb-never-bounced"]["live_ns"], e["swiotlb-never-bounced"]["non_bounce_ns"])
                 for e in lookup["lookup"])
        net = [max(e["swiotlb-never-bounced"]["live_ns"], e["swiotlb-never-bounced"]["non_bounce_ns"]) -
               min(e["call-baseline"]["live_ns"], e["call-baseline"]["non_bounce_ns"])
               for e in lookup["lookup"] if "call-baseline" in e]
        detail = "worst over all pool counts and address kinds"
        if net:
            detail += ("; the same loop calling an empty non-inlined function costs %.2f ns, "
                       "so is_bounce itself adds at most %.2f ns" % (
                           min(min(e["call-baseline"]["live_ns"], e["call-baseline"]["non_bounce_ns"])
                               for e in lookup["lookup"]), max(net)))
        add("is_bounce on a device that never bounced", nv, nv <= 2.0, detail, "<= 2 ns")
        ok = all(e[m]["correct"] for e in lookup["lookup"]
                 for m in ("swiotlb", "linear", "critnib", "swiotlb-never-bounced"))
        if not ok:
            rows[-1]["detail"] += "; WARNING: a lookup method gave wrong answers"
    else:
        for t in ("Lookup, 4096 pools: cost vs our 1-pool cost", "Lookup, 4096 pools: speed-up over linear walk",
                  "Lookup, 4096 pools: speed-up over critnib find_le", "is_bounce on a device that never bounced"):
            add(t, None, False, "no lookup results", "")
    # 5. growth
    g = growth and growth.get("growth")
    if g:
        add("Growth to 4x: maps served from non-transient pools", g["nontransient_fraction"] * 100,
            g["nontransient_fraction"] >= 0.99,
            "%d maps, %d transient pools, final pools %.1fx initial" % (
                g["maps"], g["transient_created"], g["final_pool_bytes"] / g["initial_pool_bytes"]),
            ">= 99%")
        add("Growth: map p99 during ramp vs steady-state p50", g["ramp_p99_over_steady_p50"],
            g["ramp_p99_over_steady_p50"] is not None and g["ramp_p99_over_steady_p50"] <= 3.0,
            "ramp p99 %.0f ns, steady p50 %.0f ns" % (g["ramp"].get("p99_ns", 0), g["steady"].get("p50_ns", 0)),
            "<= 3x")
    else:
        add("Growth to 4x: maps served from non-transient pools", None, False, "no growth results", ">= 99%")
        add("Growth: map p99 during ramp vs steady-state p50", None, False, "no growth results", "<= 3x")

    meta = next((x for x in (sizes, threads, lookup, growth) if x), {})
    mach = meta.get("machine", {})
    print("Benchmark targets (%s, %s CPUs, %s; %s)\n" % (
        mach.get("cpu", "?"), mach.get("cpus", "?"), mach.get("kernel", "?"), meta.get("date", "?")))
    loads = ["%s %.1f" % (n, x["machine"]["loadavg_1min_at_start"])
             for n, x in (("sizes", sizes), ("threads", threads), ("lookup", lookup), ("growth", growth))
             if x and "loadavg_1min_at_start" in x.get("machine", {})]
    if loads:
        print("1-minute load average when each set started (2 CPUs; above ~0.5 other work was running): "
              + ", ".join(loads) + "\n")
    other = []
    for n in ("sizes", "strict", "threads", "cross", "lookup", "growth"):
        try:
            with open(os.path.join(d, n + ".other_cpu")) as f:
                other.append("%s %.0f%%" % (n, 100 * float(f.read())))
        except (OSError, ValueError):
            pass
    if other:
        print("CPU used by other processes while each set ran (share of both CPUs): " + ", ".join(other) + "\n")
    print("Throughput metric for the 1-thread rows: %s\n" % (
        "wall-clock ops/s (CLOCK_MONOTONIC around batches)" if METRIC == "ops_per_s" else
        "ops per second of thread CPU time (the machine was busy, so wall-clock time includes time "
        "the benchmark threads were not running; this under-counts contention between our own threads)"))
    print("| Target | Goal | Measured | Result | Detail |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        unit = "%" if r["limit"].endswith("%") else (" ns" if r["limit"].endswith("ns") else "x")
        print("| %s | %s | %s | %s | %s |" % (r["target"], r["limit"], fmt(r["measured"], unit),
                                            "PASS" if r["pass"] else "MISS", r["detail"]))
    if cross:
        s = series(cross, "swiotlb", 2048, 2)
        print("\nCross-thread unmap, 2 KiB, 1 mapper + 1 unmapper (wall-clock): " + ", ".join(
            "%s %.2f Mops/s" % (x["peer"], x["median"]["ops_per_s"] / 1e6) for x in cross["results"]))
        del s
    if out_json:
        with open(out_json, "w") as f:
            json.dump({"date": meta.get("date"), "machine": mach, "metric": METRIC, "targets": rows}, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
