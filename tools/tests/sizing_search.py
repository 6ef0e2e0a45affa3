#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The static-pool search is honest: on a trace whose need is far above
its peak of live slots, the size reported for each placement serves every
map and one step (a segment per area) less does not.

The trace (generated here) maps one-slot buffers one after the other,
unmapping all but every 128th at once, then maps a 256 KiB buffer while
the kept ones are live.  The kernel's forward-only cursor leaves each
kept buffer in its own segment, so strict_cursor needs many segments;
the library's hot-slot reuse packs them.

Usage: sizing_search.py OUTDIR [EMULATOR...] -- REPLAY
Exit 0 pass, 1 fail."""
import json
import os
import subprocess
import sys

HEAD = "timestamp_ns,cpu,pid,op,dev_id,orig_addr,tlb_addr,mapping_size,alloc_size,alloc_align_mask,dir,seq,attrs\n"


def trace(path, kept=24):
    rows, seq, tlb = [], 0, 0x100000

    def row(op, addr, size):
        nonlocal seq
        rows.append(f"{seq},0,1,{op},0xd,0x{0x40000000 + addr:x},0x{addr:x},{size},{size},0x0,1,{seq},0x0\n")
        seq += 1
    live = []
    for i in range(kept * 128):
        addr = tlb + i * 4096
        row("map", addr, 1024)
        if i % 128:
            row("unmap", addr, 1024)
        else:
            live.append(addr)
    big = tlb + 0x10000000
    row("map", big, 256 << 10)
    row("unmap", big, 256 << 10)
    for addr in live:
        row("unmap", addr, 1024)
    with open(path, "w") as f:
        f.write(HEAD)
        f.writelines(rows)


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return p.returncode, p.stdout


def main():
    sep = sys.argv.index("--")
    outdir, emu, replay = sys.argv[1], sys.argv[2:sep], sys.argv[sep + 1:]
    path = os.path.join(outdir, "fragment.csv")
    trace(path)
    base = emu + replay + ["--no-pin", "--areas", "1", "--min-align", "0"]
    rc, out = run(base + ["--no-check", "--json", path])
    if rc != 0:
        print(f"sizing run: exit {rc}\n{out}")
        return 1
    st = {s["placement"]: s for s in json.loads(out)["sizing"]["static"]}
    print(json.dumps(st, indent=1))
    ok = True
    for name, s in st.items():
        if not s["found"]:
            print(f"{name}: no size found")
            return 1
        step = 128 * 2048
        for size, want in ((s["size"], 0), (s["size"] - step, 3)):
            if size < step:
                continue
            flags = ["--hot-cursor"] if name == "default" else []
            rc, _ = run(base + flags + ["--no-sizing", "--pool-size", str(size), path])
            print(f"{name}: check replay with {size} bytes: exit {rc} (want {want})")
            ok &= rc == want
    if st["strict_cursor"]["size"] <= st["strict_cursor"]["lower_bound"]:
        print("strict_cursor: the trace was meant to need more than its lower bound")
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
