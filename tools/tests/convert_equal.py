#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Converting the raw ftrace text of trace A must give the same map, unmap
and sync events as traceA.csv.gz: op, CPU, task, device, addresses, sizes,
direction, attributes, in-unmap flag, the kernel's area counters, and the
order.  Timestamps are not compared (they depend on the clock conversion).

Usage: convert_equal.py CONVERTER RAW_TRACE REFERENCE_CSV
Exit 0 equal, 1 different, 77 (skip) when the shared traces are absent."""
import gzip
import io
import os
import subprocess
import sys

FIELDS = ["cpu", "pid", "op", "dev_id", "orig_addr", "tlb_addr", "mapping_size",
          "alloc_size", "alloc_align_mask", "dir", "seq", "attrs", "comm", "in_unmap",
          "area0_used", "area0_index", "area1_used", "area1_index"]


def rows(lines):
    """Dicts of CSV lines (no quoting in these files: comm has no commas)."""
    it = iter(lines)
    head = next(it).rstrip("\r\n").split(",")
    return [dict(zip(head, ln.rstrip("\r\n").split(","))) for ln in it if ln.strip()]


def main():
    conv, raw, ref = sys.argv[1:4]
    for p in (raw, ref):
        if not os.path.exists(p):
            print(f"convert_equal: SKIPPED: {p} not found")
            return 77
    out = subprocess.run([sys.executable, conv, "--quiet", raw], check=True,
                         stdout=subprocess.PIPE).stdout.decode()
    got = rows(out.splitlines())
    with gzip.open(ref, "rt", newline="") as f:
        want = rows(f)
    if not want:
        print("convert_equal: reference has no rows")
        return 1
    ops = {"map", "unmap", "sync_cpu", "sync_dev"}
    want = [r for r in want if r["op"] in ops]
    got_ev = [r for r in got if r["op"] in ops]
    if len(got_ev) != len(got):
        print(f"convert_equal: {len(got) - len(got_ev)} rows of other ops in the output")
        return 1
    bad = 0
    for i, (g, w) in enumerate(zip(got_ev, want)):
        diff = [k for k in FIELDS if g.get(k, "") != w.get(k, "")]
        if diff:
            bad += 1
            if bad <= 5:
                print(f"row {i}: differs in {diff}: got "
                      f"{[g.get(k) for k in diff]} want {[w.get(k) for k in diff]}")
    if len(got_ev) != len(want):
        print(f"convert_equal: {len(got_ev)} rows converted, reference has {len(want)}")
        return 1
    print(f"convert_equal: {len(want)} events compared on {len(FIELDS)} fields, "
          f"{bad} rows differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
