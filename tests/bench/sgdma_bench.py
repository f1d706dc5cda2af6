#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Benchmark every sgdma data path against its peers, in one run.

  sgdma_bench.py --qemu Q --kernel K --initrd I --out DIR [--smoke|--qd]

Boots one guest per DMA configuration (cell) with two sgdma devices and an
NVMe controller whose namespace lives in host RAM (a file on tmpfs), runs
tests/bench/bench.sh in it, measures the host's own memcpy, and writes to
DIR: results.csv (every measurement), costs.csv (the pinned path's steps),
qd-results.csv and qd-latency.csv (small transfers by queue depth, and
each one's latency), overlap.csv (pinning and mapping against the device's
time), perf.csv and perf-results.csv (the device's counters around a
depth-1 run, and its figures), poll-results.csv and poll-latency.csv
(polled against interrupt-driven completion), report.md (tables, ratios,
issue 16's targets) and throughput.png (gnuplot). --qd measures only the
queue depths, the polled mode, the counters and the costs (no plot).
Nothing here passes or fails on speed; --smoke only proves that every path
produced a figure and the guest kernel stayed healthy.
"""

import argparse
import csv
import io
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import sgdma_harness as harness  # noqa: E402
import bench_ring as ring  # noqa: E402
from bench_ring import find, human, parse_size  # noqa: E402

BENCH_CELLS = ["no-iommu", "iommu-strict", "iommu-lazy", "swiotlb"]
LAZY = {"qemu": ["-device", "intel-iommu"],
        "append": "intel_iommu=on iommu.strict=0"}
FULL = {"sizes": "4k,16k,64k,256k,1M,4M,16M,64M", "reps": 5, "ms": 200,
        "costs": "4k,64k,1M,16M", "depths": "1,4,16,32",
        "qd_sizes": "4k,64k", "poll_sizes": "512,4k,16k,64k"}
SMOKE = {"sizes": "64k", "reps": 1, "ms": 10, "costs": "64k",
         "depths": "1,4", "qd_sizes": "64k", "poll_sizes": "4k"}
QD = dict(FULL, mode="qd", sizes="4k,64k", costs="4k,64k")
QD_PATHS = ("pinned", "registered", "nvme-odirect")
# What a run must report for each cell (path, direction).
EXPECTED = [(p, d) for p in ("copy", "pinned", "registered", "coherent")
            for d in ("h2c", "c2h", "h2h")]
EXPECTED += [("nvme-odirect", "h2c"), ("nvme-odirect", "c2h"),
             ("memcpy-guest", "-")]
COST_STEPS = ["pin_user_pages_fast", "dma_map_sgtable", "dma_sync_sg_for_device", "sgdma_chan_run",
              "dma_sync_sg_for_cpu", "dma_unmap_sg_attrs",
              "unpin_user_pages_dirty_lock"]
NVME_BYTES = 96 << 20


def expected_qd(params):
    """What the queue depths must report: (path, direction, size, qd)."""
    return [(p, d, parse_size(z), int(q))
            for p in QD_PATHS + (ring.UNCOALESCED,)
            for d in ("h2c", "c2h") for z in params["qd_sizes"].split(",")
            for q in params["depths"].split(",")]


def qd_problems(params, qrows, lats):
    """What the queue depths should have measured and did not: a figure
    and latencies (of at least one transfer) for every path, direction,
    size and depth."""
    out = []
    for kind, got, key in (("figure", qrows, "median"),
                           ("latency", lats, "ops")):
        have = {(x["path"], x["direction"], x["size"], x["qd"])
                for x in got if x[key] > 0}
        out += ["no %s for %s %s %s at depth %d"
                % (kind, e[0], e[1], human(e[2]), e[3])
                for e in expected_qd(params) if e not in have]
    return out


def figure(cell, r):
    return {"cell": cell, "path": r["path"], "direction": r["direction"],
            "size": int(r["size"]), "reps": int(r["reps"]),
            "median": float(r["median_MBps"]), "min": float(r["min_MBps"]),
            "max": float(r["max_MBps"]), "stddev": float(r["stddev_MBps"])}


def latency(cell, r):
    return {"cell": cell, "path": r["path"], "direction": r["direction"],
            "size": int(r["size"]), "qd": int(r["qd"]), "ops": int(r["ops"]),
            **{k: float(r[k])
               for k in ("median_us", "p90_us", "p99_us", "max_us")}}


# What parse_guest() returns, each a list: the CSV blocks' rows
# ("PREFIX: " lines under their "path,..." header), the other rows
# ("PREFIX: " lines, after a header line naming their columns), errors and
# notes of the guest; "poll_absent" lists why the polled mode was not run.
BLOCKS = {"csv": ("rows", figure), "qcsv": ("qrows", figure),
          "lat": ("lats", latency), "pcsv": ("prows", figure),
          "plat": ("plats", latency), "perfcsv": ("perfrows", figure),
          "qperfcsv": ("qperfrows", figure)}
LINES = {"cost": "costs", "ovl": "overlap", "perf": "perf",
         "qperf": "qperf", "qguest": "qguest"}


def cost_row(cell, line):
    size, d, func, calls, total = line.split(",")
    return {"cell": cell, "size": parse_size(size), "direction": d,
            "function": func, "calls": int(calls), "total_us": float(total)}


LINE_ROW = {"cost": cost_row, "ovl": ring.overlap_row, "perf": ring.perf_row,
            "qperf": ring.qperf_row, "qguest": ring.qguest_row}


def parse_guest(text, cell):
    """Figures, cost steps, overlaps, counters and errors from the guest's
    output: a dict of lists (BLOCKS, LINES, errors, notes, poll_absent)."""
    got = {k: [] for k in [b[0] for b in BLOCKS.values()] +
           list(LINES.values()) + ["errors", "notes", "poll_absent"]}
    header = {}
    for line in text.splitlines():
        kind, _, rest = line.partition(": ")
        if kind in BLOCKS and rest.startswith("path,"):
            header[kind] = rest.split(",")
        elif kind in BLOCKS and kind in header:
            r = dict(zip(header[kind], next(csv.reader([rest]))))
            name, make = BLOCKS[kind]
            got[name].append(make(cell, r))
            if kind in ("qcsv", "pcsv", "qperfcsv"):
                got[name][-1]["qd"] = int(r["qd"])
        elif kind in LINES and not rest.startswith(("size,", "direction,",
                                                     "path,")):
            got[LINES[kind]].append(LINE_ROW[kind](cell, rest))
        elif line.startswith("# error: "):
            got["errors"].append(line[9:])
        elif line.startswith("# note: "):
            got["notes"].append("%s: %s" % (cell, line[8:]))
        elif line.startswith("# poll: absent"):
            got["poll_absent"].append("%s: %s" % (cell, line[8:]))
    # The device's time of the overlap, as a step of the breakdown.
    got["costs"] += [{"cell": cell, "size": r["size"],
                      "direction": r["direction"], "function": "device",
                      "calls": r["calls"], "total_us": r["device_us"]}
                     for r in got["overlap"]]
    return got


def run_qemu(args, cmd, logdir):
    """Run one boot; return "" or why it did not end well."""
    try:
        with open(os.path.join(logdir, "qemu.log"), "w") as qlog:
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=qlog,
                                  stderr=subprocess.STDOUT,
                                  timeout=args.timeout)
        return "QEMU exited with %d" % proc.returncode \
            if proc.returncode else ""
    except subprocess.TimeoutExpired:
        return "killed after %d s" % args.timeout


def boot(args, name, params):
    cell = dict(harness.CELLS.get(name, LAZY if name == "iommu-lazy" else {}))
    logdir = os.path.join(args.out, "logs", name)
    os.makedirs(logdir, exist_ok=True)
    for f in ("console.log", "results.ktap"):
        if os.path.exists(os.path.join(logdir, f)):
            os.unlink(os.path.join(logdir, f))
    disk = "/dev/shm/sgdma-bench-nvme-%d.img" % os.getpid()
    with open(disk, "wb") as f:
        f.truncate(NVME_BYTES)
    # iomem=relaxed: sgdma_perfregs maps BAR0 read-only while the driver
    # holds it, which CONFIG_IO_STRICT_DEVMEM refuses otherwise.
    append = ["sgdma_bench_%s=%s" % kv for kv in params.items()] + \
        ["iomem=relaxed"]
    ns = argparse.Namespace(qemu=args.qemu, kernel=args.kernel,
                            initrd=args.initrd, memory=1024,
                            append=append, qemu_arg=[
                                "-drive", "file=%s,if=none,id=nvm,format=raw"
                                % disk,
                                "-device", "nvme,serial=sgdmabench,drive=nvm"])
    cmd = harness.qemu_command(ns, cell, "bench", logdir)
    start = time.monotonic()
    try:
        status, text, console, _ = harness.boot_retrying(
            lambda: run_qemu(args, cmd, logdir), logdir, "bench " + name)
    finally:
        os.unlink(disk)
    got = parse_guest(text, name)
    errors = got["errors"]
    if status:
        errors.append(status)
    if harness.DONE_MARKER not in text.splitlines():
        errors.append("the guest did not finish")
    kmsg = [line for line in text.splitlines()
            if line.startswith(harness.KMSG_PREFIX)]
    errors += ["kernel: " + p for p in harness.kernel_problems(
        console.splitlines() + kmsg)]
    print("# bench %s: %.0f s, %d figures, %d errors"
          % (name, time.monotonic() - start,
             len(got["rows"]) + len(got["qrows"]) + len(got["prows"]),
             len(errors)), flush=True)
    return got


def host_memcpy(args, params):
    out = subprocess.run([args.membench, "-s", params["sizes"], "-r",
                          str(params["reps"]), "-t", str(params["ms"]),
                          "-l", "memcpy-host"], check=True, capture_output=True,
                         text=True).stdout
    return parse_guest("".join("csv: " + l + "\n" for l in out.splitlines()),
                       "host")["rows"]


def median_of(rows, cell, path, direction, size):
    for r in rows:
        if (r["cell"], r["path"], r["direction"], r["size"]) == \
                (cell, path, direction, size):
            return r["median"]
    return None


def ratio(a, b):
    return "%.2f" % (a / b) if a and b else "n/a"


# Issue 16's throughput targets hold in these cells.
TARGET_CELLS = ("no-iommu", "iommu-strict", "iommu-lazy")


def traced_size(costs, cell, size, d):
    """The largest size the cost breakdown traced up to @size (else the
    smallest), for a missed target's dominant cost."""
    traced = sorted({c["size"] for c in costs
                     if (c["cell"], c["direction"]) == (cell, d)})
    below = [t for t in traced if t <= size]
    return below[-1] if below else traced[0] if traced else size


def targets(rows, costs, cells, sizes):
    """Issue 16's throughput targets, line by line: met or missed with
    every ratio, and the dominant cost of the worst case where missed."""
    out = []

    def check(name, pairs, limit, why=None):
        got = [(c, s, d, a / b) for c, s, d, a, b in pairs if a and b]
        if not got:
            return out.append("%s: not measured" % name)
        bad = [g for g in got if g[3] < limit]
        worst = min(got, key=lambda g: g[3])
        line = "%s: %s (%d of %d cases; %s)" % (
            name, "missed" if bad else "met", len(got) - len(bad), len(got),
            ", ".join("%s %s %.2f" % (human(s), d, r)
                      for c, s, d, r in got))
        if bad and why:
            line += "; worst %s %s %.2f: %s" % (human(worst[1]), worst[2],
                                                worst[3], why(*worst[:3]))
        out.append(line)

    def pinned_cost(cell, size, d):
        if d == "h2h":
            return "not traced (the breakdown traces h2c and c2h)"
        at = traced_size(costs, cell, size, d)
        return ("at %s: " % human(at) if at != size else "") + \
            dominant_cost(costs, cell, at, d).replace(" at depth 1", "")

    big = [s for s in sizes if s >= 1 << 20]
    for c in [c for c in TARGET_CELLS if c in cells]:
        check("pinned >= 1.5x NVMe O_DIRECT at every size from 1 MiB, %s" % c,
              [(c, s, d, median_of(rows, c, "pinned", d, s),
                median_of(rows, c, "nvme-odirect", d, s))
               for s in big for d in ("h2c", "c2h")], 1.5, pinned_cost)
    for path, limit in (("registered", 0.5), ("pinned", 0.35)):
        for d in ("h2c", "c2h", "h2h"):
            check("16 MiB and up, no IOMMU, %s %s >= %.2fx host memcpy"
                  % (path, d, limit),
                  [("no-iommu", s, d, median_of(rows, "no-iommu", path, d, s),
                    median_of(rows, "host", "memcpy-host", "-", s))
                   for s in sizes if s >= 16 << 20], limit,
                  pinned_cost if path == "pinned" else
                  lambda *_: "the device's time: a registered transfer "
                  "pins and maps nothing per call")
    return out


def other_targets(rows, cells, sizes):
    """Targets of earlier issues, still reported."""
    big = [s for s in sizes if s >= 1 << 20]
    got = [(c, s, d, median_of(rows, c, "registered", d, s) /
            median_of(rows, c, "coherent", d, s))
           for c in cells for s in big for d in ("h2c", "c2h", "h2h")
           if median_of(rows, c, "registered", d, s) and
           median_of(rows, c, "coherent", d, s)]
    if not got:
        return ["registered within 10% of coherent from 1 MiB: not measured"]
    worst = min(got, key=lambda g: g[3])
    return ["registered within 10%% of coherent from 1 MiB: %s (%d of %d "
            "cases; lowest %.2f at %s %s %s)" % (
                "met" if worst[3] >= 0.9 else "missed",
                sum(g[3] >= 0.9 for g in got), len(got), worst[3], worst[0],
                human(worst[1]), worst[2])]


def write_csv(path, rows):
    if not rows:
        return
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") >> 30
    return "%s, %d CPUs, %d GiB; host %s %s" % (
        model, os.cpu_count(), mem, platform.system(), platform.release())


def git(*argv):
    top = os.path.join(os.path.dirname(__file__), "..", "..")
    return subprocess.run(["git", "-C", top, *argv], capture_output=True,
                          text=True).stdout.strip()


def commit():
    head = git("rev-parse", "--short=12", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "-uno")
    return head + (" with local changes" if dirty else "")


def qemu_version(binary):
    """The version directory of a cached QEMU build
    (~/.cache/sgdma/qemu/VERSION/FLAVOUR/HASH/qemu-system-x86_64), else the
    binary's path."""
    parts = binary.split(os.sep)
    return next((d for d in reversed(parts[:-1])
                 if d[:1].isdigit() and "." in d),
                binary)


def header(args, params, p):
    p("- date: %s" % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    p("- commit: %s" % commit())
    p("- machine: %s" % machine())
    p("- guest: %s under TCG (no KVM), 2 vCPUs, 1 GiB; QEMU %s"
      % (os.path.basename(args.kernel), qemu_version(args.qemu)))
    p("- method: median of %d repetitions of at least %d ms each, after one "
      "warm-up call; MB/s = 10^6 bytes/s; spread is min-max"
      % (params["reps"], params["ms"]))
    p("- NVMe peer: QEMU `nvme` with a raw namespace in a host tmpfs file, "
      "guest `O_DIRECT` pread/pwrite of one user buffer at offset 0; by "
      "queue depth, io_uring with a buffer and a device range per slot")
    p()


def ring_sections(got, cells, p):
    """The overlap, the device's time per descriptor, the polled mode and
    the cost breakdown."""
    ring.coalesce_table(got["qrows"], got["lats"], cells, p)
    ring.qperf_table(got["qperf"], got["qperfrows"], cells, p)
    ring.qguest_table(got["qguest"], cells, p)
    ring.overlap_table(got["overlap"], cells, p)
    ring.perf_table(got["perf"], got["perfrows"], cells, p)
    ring.poll_table(got["prows"], got["plats"], cells, p, got["poll_absent"])
    cost_table(got["costs"], cells, p)


def small_targets(got, cells):
    """Issue 16's targets that every run measures (queue depths, overlap,
    polled mode)."""
    out = qd_targets(got["qrows"], got["lats"], got["costs"], cells,
                     got["qperf"], got["qperfrows"], got["qguest"]) \
        if got["qrows"] else []
    out += ring.coalesce_summary(got["qrows"], got["lats"], cells)
    out += ring.overlap_target(got["overlap"], cells)
    t = ring.poll_threshold(got["prows"], got["plats"])
    out.append("polled completion: " + (
        "; ".join(got["poll_absent"]) if got["poll_absent"] else
        "not measured" if t is None else
        "poll_threshold measured at %d bytes (polling wins up to %s)"
        % (t, human(t) if t else "no size")))
    return out


def report(args, params, got, cells):
    out = io.StringIO()
    p = lambda s="": out.write(s + "\n")  # noqa: E731
    rows, notes = got["rows"], got["notes"]
    if params.get("mode") == "qd":
        p("# sgdma benchmark: queue depths")
        p()
        header(args, params, p)
        qd_report(got["qrows"], got["lats"], cells, p)
        p("## Issue 16's small-transfer targets (reported, never asserted)")
        p()
        for line in small_targets(got, cells):
            p("- " + line)
        p()
        ring_sections(got, cells, p)
        return out.getvalue()
    sizes = sorted({r["size"] for r in rows if r["cell"] != "host"})
    series = sorted({(r["path"], r["direction"]) for r in rows
                     if r["cell"] != "host"})
    p("# sgdma benchmark")
    p()
    header(args, params, p)
    for cell in cells:
        p("## %s: median MB/s (min-max)" % cell)
        p()
        p("| size | " + " | ".join("%s %s" % s for s in series) + " |")
        p("|---:|" + "---:|" * len(series))
        for size in sizes:
            cols = []
            for path, d in series:
                r = [x for x in rows if (x["cell"], x["path"], x["direction"],
                                         x["size"]) == (cell, path, d, size)]
                cols.append("%.0f (%.0f-%.0f)" % (r[0]["median"], r[0]["min"],
                                                  r[0]["max"]) if r else "")
            p("| %s | %s |" % (human(size), " | ".join(cols)))
        p()
    if notes:
        p("Sizes a path could not run at:")
        p()
        for n in notes:
            p("- " + n)
        p()
    p("## Ratios (median against median, same cell and size)")
    p()
    p("| cell | size | pinned/NVMe h2c | pinned/NVMe c2h | registered/"
      "coherent h2c | registered/coherent c2h | pinned/guest memcpy (h2h) "
      "| pinned h2h/host memcpy | copy/guest memcpy (h2h) |")
    p("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for cell in cells:
        for size in sizes:
            m = lambda path, d, c=cell: median_of(rows, c, path, d, size)  # noqa
            p("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                cell, human(size),
                ratio(m("pinned", "h2c"), m("nvme-odirect", "h2c")),
                ratio(m("pinned", "c2h"), m("nvme-odirect", "c2h")),
                ratio(m("registered", "h2c"), m("coherent", "h2c")),
                ratio(m("registered", "c2h"), m("coherent", "c2h")),
                ratio(m("pinned", "h2h"), m("memcpy-guest", "-")),
                ratio(m("pinned", "h2h"), median_of(rows, "host",
                                                    "memcpy-host", "-", size)),
                ratio(m("copy", "h2h"), m("memcpy-guest", "-"))))
    p()
    p("## Issue 16's targets, line by line (reported, never asserted)")
    p()
    for line in targets(rows, got["costs"], cells, sizes) + \
            small_targets(got, cells):
        p("- " + line)
    p()
    p("Earlier targets:")
    p()
    for line in other_targets(rows, cells, sizes):
        p("- " + line)
    p()
    p("## Crossover of the copy and pinned paths")
    p()
    for cell in cells:
        for d in ("h2c", "c2h"):
            cross = next((s for s in sizes
                          if (median_of(rows, cell, "pinned", d, s) or 0) >
                          (median_of(rows, cell, "copy", d, s) or 0)), None)
            p("- %s %s: pinned is faster from %s on" %
              (cell, d, human(cross) if cross else "no measured size"))
    p()
    if got["qrows"]:
        qd_report(got["qrows"], got["lats"], cells, p)
    ring_sections(got, cells, p)
    return out.getvalue()


def cost_steps(costs, key):
    """(µs per transfer in all, {step: µs per transfer}, the rest) of one
    (cell, size, direction), or None."""
    by = {c["function"]: c for c in costs
          if (c["cell"], c["size"], c["direction"]) == key}
    n = by.get("sgdma_xfer", {}).get("calls")
    if not n:
        return None
    steps = {f: by[f]["total_us"] / n for f in COST_STEPS if f in by}
    # Without a call that runs one descriptor, the device's time is the
    # events' (it may overlap the other steps: rest can be negative).
    if "sgdma_chan_run" not in by and "device" in by:
        steps["device"] = by["device"]["total_us"] / n
    total = by["sgdma_xfer"]["total_us"] / n
    return total, steps, total - sum(steps.values())


def cost_table(costs, cells, p):
    if costs:
        p("## Cost of one pinned transfer, by step (µs per transfer)")
        p()
        p("Each step's time is from the kernel's function_graph tracer; "
          "the tracer's own overhead is in every figure. `sgdma_chan_run` "
          "is the device's time: submission to completion, the wait "
          "included; `device`, where the driver has no such call, is the "
          "union of its descriptors' intervals from `sgdma_submit` to "
          "`sgdma_complete` (overlapping the other steps when pipelined). "
          "`rest` is the remainder of `sgdma_xfer` (the ioctl "
          "without copying its arguments): building the sg table "
          "(lib/scatterlist.c has no ftrace hooks), descriptors, "
          "bookkeeping.")
        p()
        p("| cell | size | dir | total | " + " | ".join(COST_STEPS) +
          " | device | rest |")
        p("|---|---:|---|---:|" + "---:|" * (len(COST_STEPS) + 2))
        keys = sorted({(c["cell"], c["size"], c["direction"]) for c in costs},
                      key=lambda k: (cells.index(k[0]), k[1], k[2]))
        for key in keys:
            got = cost_steps(costs, key)
            if not got:
                continue
            total, steps, rest = got
            cols = ["%.1f" % steps[f] if f in steps else "-"
                    for f in COST_STEPS + ["device"]]
            p("| %s | %s | %s | %.1f | %s | %.1f |" % (
                key[0], human(key[1]), key[2], total, " | ".join(cols),
                rest))
        p()


def ops_per_s(r):
    return r["median"] * 1e6 / r["size"] if r else None


def dominant_cost(costs, cell, size, d):
    got = cost_steps(costs, (cell, size, d))
    if not got:
        return "no cost breakdown"
    total, steps, rest = got
    name, us = max(list(steps.items()) + [("rest", rest)], key=lambda s: s[1])
    what = {"sgdma_chan_run": " (the device round trip: doorbell to "
            "completion, the wait included)",
            "device": " (the device's time, submission to completion, from "
            "the driver's events)",
            "rest": " (sg table, descriptors, bookkeeping)"}.get(name, "")
    return "dominant cost at depth 1 %s%s, %.0f of %.0f µs per traced " \
        "transfer (%.0f%%)" % (name, what, us, total,
                               100 * us / total if total else 0)


def small_cost(costs, path, cell, d, qperf=(), qperfrows=(), qguest=()):
    """Why a small-transfer target is missed, where the run can tell."""
    if path == "pinned":
        return dominant_cost(costs, cell, 4 << 10, d)
    return ring.device_share(qperf, qperfrows, cell, d, qguest) or \
        "no breakdown of the registered path (the trace times the " \
        "pinned one)"


def qd_targets(qrows, lats, costs, cells, qperf=(), qperfrows=(),
               qguest=()):
    """Issue 16's small-transfer targets, each path, cell and direction:
    the issue names no path, so both of sgdma's are held to them."""
    out, small = [], 4 << 10
    deep = max(r["qd"] for r in qrows)
    for path in ("pinned", "registered"):
        for cell in cells:
            for d in ("h2c", "c2h"):
                a, b = (ops_per_s(find(qrows, cell=cell, path=x, direction=d,
                                       size=small, qd=deep))
                        for x in (path, "nvme-odirect"))
                if a and b:
                    line = "%s: %.2fx (%.0f against %.0f operations/s)" % (
                        "met" if a >= 2 * b else "missed", a / b, a, b)
                    line += "; depth %d against depth 1: %s" % (
                        deep, ", ".join("%s %s" % (x, ratio(*(ops_per_s(find(
                            qrows, cell=cell, path=x, direction=d,
                            size=small, qd=q)) for q in (deep, 1))))
                            for x in (path, "nvme-odirect")))
                    if a < 2 * b:
                        line += "; " + small_cost(costs, path, cell, d, qperf,
                                                    qperfrows, qguest)
                else:
                    line = "not measured"
                out.append("4 KiB at depth %d, %s >= 2x NVMe O_DIRECT in "
                           "operations per second, %s %s: %s"
                           % (deep, path, cell, d, line))
    for path in ("pinned", "registered"):
        for cell in cells:
            for d in ("h2c", "c2h"):
                a, b = (find(lats, cell=cell, path=x, direction=d,
                             size=small, qd=1)
                        for x in (path, "nvme-odirect"))
                if a and b:
                    ok = a["median_us"] <= b["median_us"]
                    line = "%s on the median (%.0f against %.0f µs), %s on " \
                        "the 99th percentile (%.0f against %.0f µs)" % (
                            "met" if ok else "missed", a["median_us"],
                            b["median_us"],
                            "met" if a["p99_us"] <= b["p99_us"] else "missed",
                            a["p99_us"], b["p99_us"])
                    if not ok:
                        line += "; " + small_cost(costs, path, cell, d)
                else:
                    line = "not measured"
                out.append("4 KiB at depth 1, %s latency no worse than NVMe "
                           "O_DIRECT's, %s %s: %s" % (path, cell, d, line))
    return out


def qd_report(qrows, lats, cells, p):
    sizes = sorted({r["size"] for r in qrows})
    depths = sorted({r["qd"] for r in qrows})
    p("## Queue depths: operations per second (median)")
    p()
    p("Depth N: sgdma's pinned path through libsgdma's queue (N synchronous "
      "transfers on N threads, the device's channels shared), registered "
      "buffers through the driver's own queue (every free slot submitted "
      "in one `QUEUE_SUBMIT_BATCH`), NVMe `O_DIRECT` through io_uring "
      "(every free slot in one `io_uring_enter`), N in flight each; one "
      "buffer and card range for all of "
      "sgdma's slots, one per slot for NVMe.")
    p()
    p("| cell | size | dir | depth | pinned | registered | NVMe O_DIRECT | "
      "pinned/NVMe | registered/NVMe |")
    p("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for cell in cells:
        for size in sizes:
            for d in ("h2c", "c2h"):
                for qd in depths:
                    v = [ops_per_s(find(qrows, cell=cell, path=path,
                                        direction=d, size=size, qd=qd))
                         for path in QD_PATHS]
                    p("| %s | %s | %s | %d | %s | %s |" % (
                        cell, human(size), d, qd, " | ".join(
                            "%.0f" % x if x else "" for x in v),
                        " | ".join(ratio(x, v[2]) for x in v[:2])))
    p()
    p("## Latency of one transfer at depth 1 (µs: median / 99th percentile)")
    p()
    p("Submission to completion as the caller sees it: the ioctl's call and "
      "return for sgdma, io_uring's submission and the reap that collected "
      "it for NVMe. Every depth's figures are in qd-latency.csv.")
    p()
    p("| cell | size | dir | pinned | registered | NVMe O_DIRECT | "
      "pinned/NVMe median | pinned/NVMe p99 |")
    p("|---|---:|---|---:|---:|---:|---:|---:|")
    for cell in cells:
        for size in sizes:
            for d in ("h2c", "c2h"):
                v = [find(lats, cell=cell, path=path, direction=d, size=size,
                          qd=1) for path in QD_PATHS]
                p("| %s | %s | %s | %s | %s | %s |" % (
                    cell, human(size), d, " | ".join(
                        "%.0f / %.0f" % (x["median_us"], x["p99_us"])
                        if x else "" for x in v),
                    ratio(v[0] and v[0]["median_us"],
                          v[2] and v[2]["median_us"]),
                    ratio(v[0] and v[0]["p99_us"], v[2] and v[2]["p99_us"])))
    p()


def plot(args, rows, cells):
    if not shutil.which("gnuplot"):
        return "gnuplot is not installed"
    data = os.path.join(args.out, "plot")
    os.makedirs(data, exist_ok=True)
    cols = min(len(cells), 2)
    lines = (len(cells) + 1) // 2
    script = ["set terminal pngcairo size %d,%d font ',10'"
              % (800 * cols, 600 * lines),
              "set output '%s'" % os.path.join(args.out, "throughput.png"),
              "set multiplot layout %d,%d title 'sgdma throughput by size "
              "(median MB/s)'" % (lines, cols),
              "set logscale xy 2", "set format x '%.0b%BB'",
              "set xlabel 'transfer size'", "set ylabel 'MB/s'",
              "set key outside right top", "set grid"]
    host = sorted((r["size"], r["median"]) for r in rows if r["cell"] == "host")
    with open(os.path.join(data, "host.dat"), "w") as f:
        f.writelines("%d %f\n" % s for s in host)
    # A colour per path, a line style per direction.
    paths = sorted({r["path"] for r in rows if r["cell"] != "host"})
    dashes = {"h2c": 1, "c2h": 2, "h2h": 3, "-": 1}
    for cell in cells:
        plots = []
        for path, d in sorted({(r["path"], r["direction"]) for r in rows
                               if r["cell"] == cell}):
            pts = sorted((r["size"], r["median"]) for r in rows
                         if (r["cell"], r["path"], r["direction"]) ==
                         (cell, path, d))
            name = os.path.join(data, "%s-%s-%s.dat" % (cell, path, d))
            with open(name, "w") as f:
                f.writelines("%d %f\n" % s for s in pts)
            plots.append("'%s' with linespoints lc %d dt %d pt %d "
                         "title '%s %s'" % (name, paths.index(path) + 1,
                                            dashes.get(d, 1),
                                            dashes.get(d, 1) + 4, path, d))
        plots.append("'%s' with lines lc rgb 'black' dashtype 4 "
                 "title 'host memcpy'"
                     % os.path.join(data, "host.dat"))
        script += ["set title '%s'" % cell, "plot " + ", ".join(plots)]
    script.append("unset multiplot")
    r = subprocess.run(["gnuplot"], input="\n".join(script) + "\n", text=True,
                       capture_output=True)
    return r.stderr.strip() if r.returncode else ""


# Where each of a run's lists goes, in OUT.
OUTPUTS = {"rows": "results.csv", "costs": "costs.csv",
           "qrows": "qd-results.csv", "lats": "qd-latency.csv",
           "overlap": "overlap.csv", "perf": "perf.csv",
           "perfrows": "perf-results.csv", "prows": "poll-results.csv",
           "plats": "poll-latency.csv", "qperf": "qd-perf.csv",
           "qperfrows": "qd-perf-results.csv", "qguest": "qd-guest.csv"}
TEXTS = {"notes": "notes.txt", "poll_absent": "poll-absent.txt"}


def number(v):
    for kind in (int, float):
        try:
            return kind(v)
        except ValueError:
            pass
    return v


def save(out, got):
    for key, name in OUTPUTS.items():
        write_csv(os.path.join(out, name), got[key])
    for key, name in TEXTS.items():
        path = os.path.join(out, name)
        if got[key] or key == "notes":
            with open(path, "w") as f:
                f.writelines(n + "\n" for n in got[key])
        elif os.path.exists(path):     # an earlier run's
            os.unlink(path)


def load(out):
    """A run's lists back from OUT (an older run lacks some files)."""
    got = {}
    for key, name in list(OUTPUTS.items()) + list(TEXTS.items()):
        path = os.path.join(out, name)
        got[key] = []
        if os.path.exists(path):
            with open(path) as f:
                got[key] = [{k: number(v) for k, v in r.items()}
                            for r in csv.DictReader(f)] \
                    if key in OUTPUTS else f.read().splitlines()
    return got


def replot(args):
    got = load(args.out)
    rows, qrows = got["rows"], got["qrows"]
    cells = [c for c in BENCH_CELLS
             if any(r["cell"] == c for r in rows + qrows)]
    reps = (rows or qrows)[0]["reps"] if rows or qrows else 0
    # The run's conditions, not the redrawing's (older runs name no commit).
    run = ("- date: ", "- commit: ", "- machine: ", "- guest: ")
    with open(os.path.join(args.out, "report.md")) as f:
        kept = {line.split(":")[0]: line.rstrip("\n") for line in f
                if line.startswith(run)}
    params = dict(FULL if rows else QD, reps=reps)
    text = report(args, params, got, cells)
    text = "\n".join(kept.get(line.split(":")[0], line)
                     for line in text.split("\n")
                     if not line.startswith(run) or line.split(":")[0] in kept)
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write(text)
    err = plot(args, rows, cells) if rows else ""
    shutil.rmtree(os.path.join(args.out, "plot"), ignore_errors=True)
    print(err or "# wrote report.md%s in %s"
          % (" and throughput.png" if rows else "", args.out))
    return 1 if err else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--qemu", required=True)
    p.add_argument("--kernel", required=True)
    p.add_argument("--initrd", required=True)
    p.add_argument("--membench", required=True,
                   help="sgdma_membench binary, for the host's memcpy")
    p.add_argument("--out", required=True)
    p.add_argument("--cell", action="append",
                   help="boot only this cell (repeatable)")
    p.add_argument("--smoke", action="store_true",
                   help="one size, one repetition, one cell")
    p.add_argument("--qd", action="store_true",
                   help="only the queue depths, and the costs at their "
                   "sizes (one cell unless --cell)")
    p.add_argument("--timeout", type=int, default=1200)
    p.add_argument("--replot", action="store_true",
                   help="only write report.md and throughput.png again from "
                   "OUT's results.csv, costs.csv and notes.txt")
    args = p.parse_args()
    if args.replot:
        return replot(args)
    params = SMOKE if args.smoke else QD if args.qd else FULL
    cells = args.cell or (["no-iommu"] if args.smoke or args.qd
                          else BENCH_CELLS)
    os.makedirs(args.out, exist_ok=True)

    got = parse_guest("", "host")
    got["rows"] = [] if args.qd else host_memcpy(args, params)
    problems = []
    for cell in cells:
        g = boot(args, cell, params)
        for key in got:
            got[key] += g[key] if key != "errors" else []
        problems += ["%s: %s" % (cell, e) for e in g["errors"]]
        have = {(x["path"], x["direction"]) for x in g["rows"]}
        problems += ["%s: no figure for %s %s" % (cell, *e)
                     for e in EXPECTED if e not in have and not args.qd]
        problems += ["%s: %s" % (cell, e)
                     for e in qd_problems(params, g["qrows"], g["lats"]) +
                     ring.problems(params, g)]
        if not any(x["function"] == "sgdma_xfer" for x in g["costs"]):
            problems.append("%s: no cost breakdown" % cell)
    save(args.out, got)
    rows = got["rows"]
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write(report(args, params, got, cells))
    err = plot(args, rows, cells) if rows else ""
    if err:
        problems.append("plot: " + err)
    for line in problems:
        print("# problem: " + line)
    print("# results in %s (report.md, %s, throughput.png)"
          % (args.out, ", ".join(OUTPUTS.values())))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
