#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Benchmark every sgdma data path against its peers, in one run.

  sgdma_bench.py --qemu Q --kernel K --initrd I --out DIR [--smoke]

Boots one guest per DMA configuration (cell) with two sgdma devices and an
NVMe controller whose namespace lives in host RAM (a file on tmpfs), runs
tests/bench/bench.sh in it, measures the host's own memcpy, and writes to
DIR: results.csv (every measurement), costs.csv (the pinned path's steps),
report.md (tables and ratios) and throughput.png (gnuplot). Nothing here
passes or fails on speed; --smoke only proves that every path produced a
figure and the guest kernel stayed healthy.
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

BENCH_CELLS = ["no-iommu", "iommu-strict", "iommu-lazy", "swiotlb"]
LAZY = {"qemu": ["-device", "intel-iommu"],
        "append": "intel_iommu=on iommu.strict=0"}
FULL = {"sizes": "4k,16k,64k,256k,1M,4M,16M,64M", "reps": 5, "ms": 200,
        "costs": "4k,64k,1M,16M"}
SMOKE = {"sizes": "64k", "reps": 1, "ms": 10, "costs": "64k"}
# What a run must report for each cell (path, direction).
EXPECTED = [(p, d) for p in ("copy", "pinned", "registered", "coherent")
            for d in ("h2c", "c2h", "h2h")]
EXPECTED += [("nvme-odirect", "h2c"), ("nvme-odirect", "c2h"),
             ("memcpy-guest", "-")]
COST_STEPS = ["pin_user_pages_fast", "dma_map_sgtable", "dma_sync_sg_for_device", "sgdma_chan_run",
              "dma_sync_sg_for_cpu", "dma_unmap_sg_attrs",
              "unpin_user_pages_dirty_lock"]
NVME_BYTES = 96 << 20


def parse_guest(text, cell):
    """Figures, cost steps and errors from the guest's output.

    CSV blocks come from different programs; each starts with its header.
    """
    rows, costs, errors, header = [], [], [], None
    notes = []
    for line in text.splitlines():
        if line.startswith("csv: path,"):
            header = line[5:].split(",")
        elif line.startswith("csv: ") and header:
            r = dict(zip(header, next(csv.reader([line[5:]]))))
            rows.append({"cell": cell, "path": r["path"],
                         "direction": r["direction"], "size": int(r["size"]),
                         "reps": int(r["reps"]),
                         "median": float(r["median_MBps"]),
                         "min": float(r["min_MBps"]),
                         "max": float(r["max_MBps"]),
                         "stddev": float(r["stddev_MBps"])})
        elif line.startswith("cost: ") and not line.startswith("cost: size,"):
            size, d, func, calls, total = line[6:].split(",")
            costs.append({"cell": cell, "size": parse_size(size),
                          "direction": d, "function": func,
                          "calls": int(calls), "total_us": float(total)})
        elif line.startswith("# error: "):
            errors.append(line[9:])
        elif line.startswith("# note: "):
            notes.append("%s: %s" % (cell, line[8:]))
    return rows, costs, errors, notes


def parse_size(s):
    mult = {"k": 1 << 10, "m": 1 << 20}.get(s[-1].lower(), 1)
    return int(s[:-1] if mult > 1 else s) * mult


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
    append = ["sgdma_bench_%s=%s" % kv for kv in params.items()]
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
    rows, costs, errors, notes = parse_guest(text, name)
    if status:
        errors.append(status)
    if harness.DONE_MARKER not in text.splitlines():
        errors.append("the guest did not finish")
    kmsg = [line for line in text.splitlines()
            if line.startswith(harness.KMSG_PREFIX)]
    errors += ["kernel: " + p for p in harness.kernel_problems(
        console.splitlines() + kmsg)]
    print("# bench %s: %.0f s, %d figures, %d errors"
          % (name, time.monotonic() - start, len(rows), len(errors)),
          flush=True)
    return rows, costs, errors, notes


def host_memcpy(args, params):
    out = subprocess.run([args.membench, "-s", params["sizes"], "-r",
                          str(params["reps"]), "-t", str(params["ms"]),
                          "-l", "memcpy-host"], check=True, capture_output=True,
                         text=True).stdout
    return parse_guest("".join("csv: " + l + "\n" for l in out.splitlines()),
                       "host")[0]


def median_of(rows, cell, path, direction, size):
    for r in rows:
        if (r["cell"], r["path"], r["direction"], r["size"]) == \
                (cell, path, direction, size):
            return r["median"]
    return None


def human(size):
    for unit, shift in (("MiB", 20), ("KiB", 10)):
        if size >= 1 << shift and size % (1 << shift) == 0:
            return "%d %s" % (size >> shift, unit)
    return "%d B" % size


def ratio(a, b):
    return "%.2f" % (a / b) if a and b else "n/a"


def targets(rows, cells, sizes):
    """The issue's three targets, each as met or missed with its figures."""
    out = []

    def check(name, pairs, limit, cmp):
        got = [(c, s, d, a / b) for c, s, d, a, b in pairs if a and b]
        if not got:
            return out.append("%s: not measured" % name)
        bad = [g for g in got if not cmp(g[3], limit)]
        worst = min(got, key=lambda g: g[3])
        out.append("%s: %s (%d of %d cases; lowest %.2f at %s %s %s)" % (
            name, "met" if not bad else "missed", len(got) - len(bad),
            len(got), worst[3], worst[0], human(worst[1]), worst[2]))

    big = [s for s in sizes if s >= 1 << 20]
    check("pinned >= 1.5x NVMe O_DIRECT from 1 MiB",
          [(c, s, d, median_of(rows, c, "pinned", d, s),
            median_of(rows, c, "nvme-odirect", d, s))
           for c in cells for s in big for d in ("h2c", "c2h")],
          1.5, lambda r, lim: r >= lim)
    check("registered within 10% of coherent from 1 MiB",
          [(c, s, d, median_of(rows, c, "registered", d, s),
            median_of(rows, c, "coherent", d, s))
           for c in cells for s in big for d in ("h2c", "c2h", "h2h")],
          0.9, lambda r, lim: r >= lim)
    for path in ("pinned", "registered"):
        check("16 MiB and up, no IOMMU, >= 0.5x host memcpy (%s)" % path,
              [("no-iommu", s, d, median_of(rows, "no-iommu", path, d, s),
                median_of(rows, "host", "memcpy-host", "-", s))
               for s in sizes if s >= 16 << 20
               for d in ("h2c", "c2h", "h2h")],
              0.5, lambda r, lim: r >= lim)
    return out


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


def report(args, params, rows, costs, cells, notes):
    out = io.StringIO()
    p = lambda s="": out.write(s + "\n")  # noqa: E731
    sizes = sorted({r["size"] for r in rows if r["cell"] != "host"})
    series = sorted({(r["path"], r["direction"]) for r in rows
                     if r["cell"] != "host"})
    p("# sgdma benchmark")
    p()
    p("- date: %s" % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    p("- machine: %s" % machine())
    p("- guest: %s under TCG (no KVM), 2 vCPUs, 1 GiB; QEMU %s"
      % (os.path.basename(args.kernel), os.path.basename(
          os.path.dirname(os.path.dirname(args.qemu)))))
    p("- method: median of %d repetitions of at least %d ms each, after one "
      "warm-up call; MB/s = 10^6 bytes/s; spread is min-max"
      % (params["reps"], params["ms"]))
    p("- NVMe peer: QEMU `nvme` with a raw namespace in a host tmpfs file, "
      "guest `O_DIRECT` pread/pwrite of one user buffer at offset 0")
    p()
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
    p("## Targets (reported, never asserted)")
    p()
    for line in targets(rows, cells, sizes):
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
    if costs:
        p("## Cost of one pinned transfer, by step (µs per transfer)")
        p()
        p("Each step's time is from the kernel's function_graph tracer; "
          "the tracer's own overhead is in every figure. `sgdma_chan_run` "
          "is the device's time: submission to completion, the wait "
          "included. `rest` is the remainder of `sgdma_xfer` (the ioctl "
          "without copying its arguments): building the sg table "
          "(lib/scatterlist.c has no ftrace hooks), descriptors, "
          "bookkeeping.")
        p()
        p("| cell | size | dir | total | " + " | ".join(COST_STEPS) +
          " | rest |")
        p("|---|---:|---|---:|" + "---:|" * (len(COST_STEPS) + 1))
        keys = sorted({(c["cell"], c["size"], c["direction"]) for c in costs},
                      key=lambda k: (cells.index(k[0]), k[1], k[2]))
        for key in keys:
            by = {c["function"]: c for c in costs
                  if (c["cell"], c["size"], c["direction"]) == key}
            n = by.get("sgdma_xfer", {}).get("calls")
            if not n:
                continue
            total = by["sgdma_xfer"]["total_us"]
            rest = total - sum(by[f]["total_us"] for f in COST_STEPS
                               if f in by)
            cols = ["%.1f" % (by[f]["total_us"] / n) if f in by else "-"
                    for f in COST_STEPS]
            p("| %s | %s | %s | %.1f | %s | %.1f |" % (
                key[0], human(key[1]), key[2], total / n, " | ".join(cols),
                rest / n))
        p()
    return out.getvalue()


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


def replot(args):
    def load(name, ints, floats):
        with open(os.path.join(args.out, name)) as f:
            return [dict(r, **{k: int(r[k]) for k in ints},
                         **{k: float(r[k]) for k in floats})
                    for r in csv.DictReader(f)]
    rows = load("results.csv", ["size", "reps"],
                ["median", "min", "max", "stddev"])
    costs = load("costs.csv", ["size", "calls"], ["total_us"])
    with open(os.path.join(args.out, "notes.txt")) as f:
        notes = f.read().splitlines()
    cells = [c for c in BENCH_CELLS if any(r["cell"] == c for r in rows)]
    reps = rows[0]["reps"] if rows else 0
    with open(os.path.join(args.out, "report.md")) as f:
        date = next((line for line in f if line.startswith("- date: ")), "")
    text = report(args, dict(FULL, reps=reps), rows, costs, cells, notes)
    if date:    # the run's, not the redrawing's
        text = "\n".join(date.rstrip("\n") if line.startswith("- date: ")
                         else line for line in text.split("\n"))
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write(text)
    err = plot(args, rows, cells)
    shutil.rmtree(os.path.join(args.out, "plot"), ignore_errors=True)
    print(err or "# wrote report.md and throughput.png in %s" % args.out)
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
    p.add_argument("--timeout", type=int, default=1200)
    p.add_argument("--replot", action="store_true",
                   help="only write report.md and throughput.png again from "
                   "OUT's results.csv, costs.csv and notes.txt")
    args = p.parse_args()
    if args.replot:
        return replot(args)
    params = SMOKE if args.smoke else FULL
    cells = args.cell or (["no-iommu"] if args.smoke else BENCH_CELLS)
    os.makedirs(args.out, exist_ok=True)

    rows, costs, problems, notes = host_memcpy(args, params), [], [], []
    for cell in cells:
        r, c, errors, n = boot(args, cell, params)
        notes += n
        rows += r
        costs += c
        problems += ["%s: %s" % (cell, e) for e in errors]
        have = {(x["path"], x["direction"]) for x in r}
        problems += ["%s: no figure for %s %s" % (cell, *e)
                     for e in EXPECTED if e not in have]
        if not any(x["function"] == "sgdma_xfer" for x in c):
            problems.append("%s: no cost breakdown" % cell)
    write_csv(os.path.join(args.out, "results.csv"), rows)
    write_csv(os.path.join(args.out, "costs.csv"), costs)
    with open(os.path.join(args.out, "notes.txt"), "w") as f:
        f.writelines(n + "\n" for n in notes)
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write(report(args, params, rows, costs, cells, notes))
    err = plot(args, rows, cells)
    if err:
        problems.append("plot: " + err)
    for line in problems:
        print("# problem: " + line)
    print("# results in %s (report.md, results.csv, costs.csv, "
          "throughput.png)" % args.out)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
