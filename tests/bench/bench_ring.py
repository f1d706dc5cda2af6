# SPDX-License-Identifier: GPL-2.0-or-later
"""The parts of make bench's report about issue 16's ring (sgdma_bench.py
draws the rest): how much of the pinning and mapping a pipelined transfer
hides behind the device ("ovl:" rows), the device's own time per
descriptor from its PERF_* counters ("perf:" rows beside a depth-1 run's
figure), and polled against interrupt-driven completion at depth 1
("pcsv:"/"plat:" rows, paths copy-irq, copy-poll, pinned-irq, pinned-poll),
and the registered queue with interrupt coalescing against without it
("qcsv:"/"lat:" rows of paths registered and registered-1irq).
"""

PERF_COUNTERS = ("descs", "wait_us", "move_us", "bh_runs", "irqs")
POLL_PATHS = ("copy", "pinned")
# The registered queue's rows measured with coalesce_max 1.
UNCOALESCED = "registered-1irq"


def human(size):
    for unit, shift in (("MiB", 20), ("KiB", 10)):
        if size >= 1 << shift and size % (1 << shift) == 0:
            return "%d %s" % (size >> shift, unit)
    return "%d B" % size


def parse_size(s):
    mult = {"k": 1 << 10, "m": 1 << 20}.get(s[-1].lower(), 1)
    return int(s[:-1] if mult > 1 else s) * mult


def overlap_row(cell, line):
    """An "ovl: size,direction,calls,wall_us,pin_us,map_us,device_us,
    hidden_us" row."""
    size, d, calls, *us = line.split(",")
    return {"cell": cell, "size": parse_size(size), "direction": d,
            "calls": int(calls),
            **dict(zip(("wall_us", "pin_us", "map_us", "device_us",
                        "hidden_us"), map(float, us)))}


def counters_before_after(values):
    """The device's counters before and after a run, from the fields of
    a row that lists PERF_COUNTERS twice: {name: n, name_after: n}."""
    n = len(PERF_COUNTERS)
    return {**{k: int(x) for k, x in zip(PERF_COUNTERS, values[:n])},
            **{k + "_after": int(x)
               for k, x in zip(PERF_COUNTERS, values[n:])}}


def perf_row(cell, line):
    """A "perf: direction,<counters before>,<counters after>" row."""
    d, *v = line.split(",")
    return {"cell": cell, "direction": d, **counters_before_after(v)}


def qperf_row(cell, line):
    """A "qperf: path,direction,depth,<counters before>,<counters after>"
    row: the device's counters around a registered run at depth."""
    path, d, qd, *v = line.split(",")
    return {"cell": cell, "path": path, "direction": d, "qd": int(qd),
            **counters_before_after(v)}


def qguest_row(cell, line):
    """A "qguest: path,depth,ops,<ctxt>,<intr> before,<ctxt>,<intr> after"
    row: the guest's context switches and interrupts (/proc/stat) around
    the runs of one path at depth, both directions, and their operations."""
    path, qd, ops, c0, i0, c1, i1 = line.split(",")
    return {"cell": cell, "path": path, "qd": int(qd), "ops": int(ops),
            "ctxt": int(c1) - int(c0), "intr": int(i1) - int(i0)}


def find(rows, **key):
    return next((r for r in rows if all(r[k] == v for k, v in key.items())),
                None)


def overlap_figures(r):
    """(wall, pin + map, device, overlap, hidden) µs per call of one "ovl"
    row: overlap = pin + map + device - wall; hidden = the pinning and
    mapping that ran while the device had work (None in older runs)."""
    n = r["calls"]
    wall, pinmap, dev = (r["wall_us"] / n, (r["pin_us"] + r["map_us"]) / n,
                         r["device_us"] / n)
    hidden = r.get("hidden_us")
    return wall, pinmap, dev, pinmap + dev - wall, \
        hidden / n if isinstance(hidden, (int, float)) else None


def share(part, whole):
    return "%.0f%%" % (100 * part / whole) if part is not None and whole \
        else "-"


def overlap_table(overlaps, cells, p):
    rows = [r for r in overlaps if r["calls"]]
    if not rows:
        return
    p("## Overlap of pinning and mapping with the device (pinned path)")
    p()
    p("From the cost breakdown's trace, per `sgdma_xfer` call: its wall "
      "time, the time in `pin_user_pages_fast` and `dma_map_sgtable`, the "
      "device's time (the union of its descriptors' intervals from "
      "`sgdma_submit` to `sgdma_complete`), overlap = pin + map + device - "
      "wall (its share of wall), and hidden: the part of the pinning and "
      "mapping that ran while the device had work (its share of pin + "
      "map). overlap also counts what is in none of the three (sg tables, "
      "syncs, unmapping and unpinning the last pieces, waking up), so it "
      "is <= 0 when those outweigh what is hidden; hidden says directly "
      "how much of the pinning the device covers.")
    p()
    p("| cell | size | dir | calls | wall µs | pin+map µs | device µs | "
      "device/wall | overlap µs | overlap/wall | hidden µs | hidden/"
      "(pin+map) |")
    p("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in sorted(rows, key=lambda r: (cells.index(r["cell"]), r["size"],
                                         r["direction"])):
        wall, pinmap, dev, over, hidden = overlap_figures(r)
        p("| %s | %s | %s | %d | %.0f | %.0f | %.0f | %s | %.0f | %s | %s | "
          "%s |" % (r["cell"], human(r["size"]), r["direction"], r["calls"],
                    wall, pinmap, dev, share(dev, wall), over,
                    share(over, wall),
                    "-" if hidden is None else "%.0f" % hidden,
                    share(hidden, pinmap)))
    p()


def overlap_target(overlaps, cells):
    """Issue 16's "the cost breakdown shows the overlap (pin and map time
    hidden behind the device's)", at the largest traced size: met where
    some of the pinning and mapping ran while the device had work, in
    every cell and direction."""
    rows = [r for r in overlaps if r["calls"] and r["cell"] in cells]
    if not rows:
        return ["the cost breakdown shows the overlap of pinning and mapping "
                "with the device: not measured"]
    big = max(r["size"] for r in rows)
    got = [(r, overlap_figures(r)) for r in rows if r["size"] == big]
    met = all(f[4] for r, f in got)
    return ["the cost breakdown shows the overlap (pin and map hidden behind "
            "the device) at %s: %s (pin+map hidden / overlap = pin + map + "
            "device - wall, per call: %s)" % (
                human(big), "met" if met else "missed", "; ".join(
                    "%s %s %s of %.0f µs / %.0f of %.0f µs wall" % (
                        r["cell"], r["direction"],
                        "-" if f[4] is None else "%.0f" % f[4], f[1], f[3],
                        f[0]) for r, f in got))]


def per_descriptor(perf, perfrows):
    """The device's split of one depth-1 4 KiB pinned transfer, per perf
    row: None where the device has no counters (PERF_DESCS did not move
    while the run completed descriptors), else a dict."""
    fig = find(perfrows, cell=perf["cell"], path="pinned",
               direction=perf["direction"])
    delta = {k: (perf[k + "_after"] - perf[k]) % (1 << 32)
             for k in PERF_COUNTERS}
    if not delta["descs"]:
        return None
    n = delta["descs"]
    lat = fig["size"] / fig["median"] if fig and fig["median"] else 0
    wait, move = delta["wait_us"] / n, delta["move_us"] / n
    return {"descs": n, "wait": wait, "move": move, "latency": lat,
            "rest": lat - wait - move, "irqs": delta["irqs"] / n,
            "bh_runs": delta["bh_runs"] / n}


def perf_table(perfs, perfrows, cells, p):
    if not perfs:
        return
    p("## The device's time per descriptor (4 KiB pinned, depth 1)")
    p()
    p("The device's PERF_* counters (BAR0, virtual clock) read before and "
      "after a depth-1 run: doorbell to start of processing (the bottom "
      "half's scheduling), start to completion posted (checks, data "
      "movement, link model); the rest of the round trip (interrupt, "
      "wake-up, the driver's own work) is the run's mean latency "
      "(repetition time / transfers) minus those. Counters cover the "
      "warm-up too.")
    p()
    p("| cell | dir | descriptors | doorbell to start µs | start to "
      "completion µs | rest µs | mean latency µs | interrupts/desc | "
      "bottom halves/desc |")
    p("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for perf in sorted(perfs, key=lambda r: (cells.index(r["cell"]),
                                             r["direction"])):
        s = per_descriptor(perf, perfrows)
        if s is None:
            p("| %s | %s | absent: the device has no counters (PERF_DESCS "
              "did not move) |||||||" % (perf["cell"], perf["direction"]))
            continue
        p("| %s | %s | %d | %.1f | %.1f | %.1f | %.1f | %.2f | %.2f |" % (
            perf["cell"], perf["direction"], s["descs"], s["wait"],
            s["move"], s["rest"], s["latency"], s["irqs"], s["bh_runs"]))
    p()


def qperf_figures(r, qperfrows):
    """The device's split of a run at depth from a "qperf" row and its
    figure: None without counters, else a dict (per descriptor: µs from
    doorbell to start, µs processing, interrupts, bottom-half runs; the
    run's operations per second; busy: the share of the run's time the
    device spent processing, the sum of its processing times against the
    run's own length)."""
    fig = find(qperfrows, cell=r["cell"], path=r["path"],
               direction=r["direction"], qd=r["qd"])
    delta = {k: (r[k + "_after"] - r[k]) % (1 << 32) for k in PERF_COUNTERS}
    n = delta["descs"]
    if not n or not fig or not fig["median"]:
        return None
    ops_s = fig["median"] * 1e6 / fig["size"]
    move = delta["move_us"] / n
    return {"descs": n, "wait": delta["wait_us"] / n, "move": move,
            "irqs": delta["irqs"] / n, "bh_runs": delta["bh_runs"] / n,
            "ops": ops_s, "busy": move * ops_s / 1e6}


def qperf_table(qperf, qperfrows, cells, p):
    if not qperf:
        return
    p("## The device at depth: registered 4 KiB")
    p()
    p("The device's PERF_* counters around runs of the driver's queue on "
      "registered buffers at the deepest depth, with its coalescing and "
      "with an interrupt a completion (coalesce_max 1). Per descriptor: µs "
      "from the doorbell to the start of processing (queueing behind the "
      "ring's earlier descriptors and the bottom half's scheduling), µs "
      "processing (checks, data, completion), interrupts and bottom-half "
      "runs. Busy: processing µs per descriptor times operations per "
      "second, the share of the run the device's one main-loop thread "
      "spent on descriptors (counters cover the warm-up too).")
    p()
    p("| cell | path | dir | depth | ops/s | processing µs | doorbell to "
      "start µs | interrupts/desc | bottom halves/desc | busy |")
    p("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in sorted(qperf, key=lambda r: (cells.index(r["cell"]),
                                          r["path"], r["direction"])):
        f = qperf_figures(r, qperfrows)
        if f is None:
            p("| %s | %s | %s | %d | absent: no counters or no figure "
              "||||||" % (r["cell"], r["path"], r["direction"], r["qd"]))
            continue
        p("| %s | %s | %s | %d | %.0f | %.1f | %.1f | %.2f | %.2f | %.0f%% |"
          % (r["cell"], r["path"], r["direction"], r["qd"], f["ops"],
             f["move"], f["wait"], f["irqs"], f["bh_runs"],
             100 * f["busy"]))
    p()


def per_op(r):
    """(context switches, interrupts) an operation of a "qguest" row."""
    return r["ctxt"] / r["ops"], r["intr"] / r["ops"]


def qguest_table(qguest, cells, p):
    rows = [r for r in qguest if r["ops"]]
    if not rows:
        return
    p("## The guest at depth: registered 4 KiB against NVMe")
    p()
    p("The guest's context switches and interrupts (`/proc/stat`, every "
      "CPU and every source) around the driver's queue on registered "
      "buffers and around NVMe `O_DIRECT` through io_uring at the deepest "
      "depth, both directions, divided by the operations each timed: what "
      "an operation costs the guest when the device is not what it waits "
      "on. A context switch is a CPU going from one task to another: a "
      "thread that sleeps and is woken costs two.")
    p()
    p("| cell | path | depth | operations | context switches/op | "
      "interrupts/op |")
    p("|---|---|---:|---:|---:|---:|")
    for r in sorted(rows, key=lambda r: (cells.index(r["cell"]),
                                         r["path"] != "registered")):
        p("| %s | %s | %d | %d | %.2f | %.2f |"
          % ((r["cell"], r["path"], r["qd"], r["ops"]) + per_op(r)))
    p()


def guest_share(qguest, cell):
    """The guest's cost an operation, registered against NVMe, in @cell;
    None if not measured."""
    a, b = (find(qguest, cell=cell, path=x)
            for x in ("registered", "nvme-odirect"))
    if not (a and b and a["ops"] and b["ops"]):
        return None
    return "%.2f context switches and %.2f interrupts an operation against " \
        "NVMe's %.2f and %.2f" % (per_op(a) + per_op(b))


def device_share(qperf, qperfrows, cell, d, qguest=()):
    """What the device's counters (and the guest's, if measured) say of a
    registered run at depth in @cell, direction @d, for a missed target;
    None if not measured."""
    r = find(qperf, cell=cell, path="registered", direction=d)
    f = r and qperf_figures(r, qperfrows)
    if not f:
        return None
    guest = guest_share(qguest, cell)
    return "not the device: it was busy %.0f%% of the run at depth %d " \
        "(%.1f µs processing and %.0f µs from doorbell to start a " \
        "descriptor, %.2f interrupts a descriptor) while an operation took " \
        "%.0f µs (depth / operations per second): the rest is the guest's " \
        "own path (submission, the engine's work item, the interrupt, the " \
        "reap) on its 2 vCPUs under TCG%s" % (
            100 * f["busy"], r["qd"], f["move"], f["wait"], f["irqs"],
            r["qd"] * 1e6 / f["ops"],
            ", " + guest + " (both directions)" if guest else "")


def poll_cases(prows, plats):
    """{(cell, path, direction): {size: (interrupt, polled)}}, each a pair
    (median latency µs, median MB/s)."""
    out = {}
    for r in plats:
        path, _, mode = r["path"].rpartition("-")
        if mode != "irq":
            continue
        key = dict(cell=r["cell"], direction=r["direction"], size=r["size"])
        poll = find(plats, path=path + "-poll", **key)
        mb = [find(prows, path=path + m, **key) for m in ("-irq", "-poll")]
        if poll and all(mb):
            out.setdefault((r["cell"], path, r["direction"]), {})[
                r["size"]] = ((r["median_us"], mb[0]["median"]),
                              (poll["median_us"], mb[1]["median"]))
    return out


def poll_wins_up_to(sizes):
    """The largest size up to which polling wins at every measured size
    (a lower median latency and no lower throughput, so no worse a mean
    latency: a long tail of polls that starve the device counts), or 0."""
    best = 0
    for size in sorted(sizes):
        irq, poll = sizes[size]
        if poll[0] >= irq[0] or poll[1] < irq[1]:
            break
        best = size
    return best


def poll_threshold(prows, plats):
    """The recommended poll_threshold: the smallest of poll_wins_up_to over
    every cell, path and direction (0 when polling never wins), or None
    when nothing was measured."""
    cases = poll_cases(prows, plats)
    return min(poll_wins_up_to(s) for s in cases.values()) if cases else None


def poll_table(prows, plats, cells, p, absent):
    if absent:
        p("## Polled completion")
        p()
        p("Absent: " + "; ".join(absent))
        p()
    cases = poll_cases(prows, plats)
    if not cases:
        return
    p("## Polled completion against the interrupt (depth 1)")
    p()
    p("Median latency of one synchronous transfer, µs, with SGDMA_XFER_POLL "
      "(the caller polls the completion for up to poll_us before it "
      "sleeps) and without it (poll_threshold 0 meanwhile); MB/s from the "
      "repetitions' medians (their inverse is the mean latency). Polling "
      "wins at a size where its median latency is lower and its MB/s no "
      "lower.")
    p()
    p("| cell | path | dir | size | interrupt µs | polled µs | polled/"
      "interrupt | interrupt MB/s | polled MB/s |")
    p("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for key in sorted(cases, key=lambda k: (cells.index(k[0]), k[1], k[2])):
        for size, (irq, poll) in sorted(cases[key].items()):
            p("| %s | %s | %s | %s | %.0f | %.0f | %.2f | %.0f | %.0f |" % (
                *key, human(size), irq[0], poll[0],
                poll[0] / irq[0] if irq[0] else 0, irq[1], poll[1]))
    p()
    p("Polling wins up to: " + ", ".join(
        "%s %s %s %s" % (*key, human(poll_wins_up_to(s)) if
                         poll_wins_up_to(s) else "no size")
        for key, s in sorted(cases.items(),
                             key=lambda kv: (cells.index(kv[0][0]),
                                             kv[0][1:]))))
    p()
    t = poll_threshold(prows, plats)
    p("Recommended `poll_threshold`: **%d** bytes (%s), the largest size up "
      "to which polling wins in every cell, path and direction measured."
      % (t, human(t) if t else "only with the flag"))
    p()


def ops(r):
    """Operations per second of a figure row (its median MB/s)."""
    return r["median"] * 1e6 / r["size"] if r else None


def coalesce_pairs(qrows, lats, cells):
    """[(cell, size, direction, depth, coalesced, each, latency pair)]: the
    registered queue's operations per second with the driver's coalescing
    and with an interrupt a completion, and the two median latencies (µs)."""
    out = []
    for r in qrows:
        if r["path"] != UNCOALESCED or r["cell"] not in cells:
            continue
        key = dict(cell=r["cell"], direction=r["direction"], size=r["size"],
                   qd=r["qd"])
        on = find(qrows, path="registered", **key)
        lat = [find(lats, path=x, **key) for x in ("registered", UNCOALESCED)]
        out.append((r["cell"], r["size"], r["direction"], r["qd"], ops(on),
                    ops(r), [x and x["median_us"] for x in lat]))
    return sorted(out, key=lambda x: (cells.index(x[0]), *x[1:4]))


def coalesce_table(qrows, lats, cells, p):
    pairs = coalesce_pairs(qrows, lats, cells)
    if not pairs:
        return
    p("## Interrupt coalescing: registered buffers through the queue")
    p()
    p("The driver's queue with its default coalescing (an interrupt every "
      "min(coalesce_max, outstanding / 2) completions) and with an "
      "interrupt for every completion (coalesce_max 1), measured one after "
      "the other at each depth: operations per second (median) and the "
      "median latency of one transfer, µs.")
    p()
    p("| cell | size | dir | depth | coalesced ops/s | uncoalesced ops/s | "
      "ratio | coalesced µs | uncoalesced µs |")
    p("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for cell, size, d, qd, on, off, lat in pairs:
        p("| %s | %s | %s | %d | %s | %s | %s | %s | %s |" % (
            cell, human(size), d, qd, "%.0f" % on if on else "",
            "%.0f" % off if off else "",
            "%.2f" % (on / off) if on and off else "",
            *("%.0f" % x if x else "" for x in lat)))
    p()


def span(v):
    """"0.91-1.20" (or "1.05" alone) of the ratios @v."""
    lo, hi = "%.2f" % min(v), "%.2f" % max(v)
    return lo if lo == hi else lo + "-" + hi


def coalesce_summary(qrows, lats, cells):
    """One line per size and depth: coalesced against uncoalesced
    operations per second over every cell and direction (the range), and
    at depth 1 the latency."""
    lines, groups = [], {}
    for cell, size, d, qd, on, off, lat in coalesce_pairs(qrows, lats,
                                                          cells):
        if on and off:
            groups.setdefault((size, qd), []).append(
                (on / off, lat[0] / lat[1] if all(lat) else None))
    for (size, qd), v in sorted(groups.items()):
        line = "interrupt coalescing, registered %s at depth %d: %sx " \
            "the operations per second of an interrupt a completion" % (
                human(size), qd, span([x[0] for x in v]))
        lat = [x[1] for x in v if x[1]]
        if qd == 1 and lat:
            line += ", %sx its median latency" % span(lat)
        lines.append(line)
    return lines


def problems(params, got):
    """What this part of a run should have measured and did not."""
    out = []
    for size in filter(None, params.get("costs", "").split(",")):
        for d in ("h2c", "c2h"):
            if not find(got["overlap"], size=parse_size(size), direction=d) \
                    or not find(got["overlap"], size=parse_size(size),
                                direction=d)["calls"]:
                out.append("no overlap for %s %s" % (size, d))
    if params.get("mode") != "qd":
        for d in ("h2c", "c2h"):
            if not find(got["perf"], direction=d):
                out.append("no device counters around the %s run" % d)
            if not find(got["perfrows"], path="pinned", direction=d):
                out.append("no figure for the %s run of the counters" % d)
    depths = params.get("depths")
    if depths:
        deep = int(depths.split(",")[-1])
        out += ["no device counters around the %s %s run at depth %d"
                % (path, d, deep)
                for path in ("registered", UNCOALESCED)
                for d in ("h2c", "c2h")
                if not find(got["qperf"], path=path, direction=d, qd=deep)]
    poll_sizes = params.get("poll_sizes")
    if poll_sizes and not got["poll_absent"]:
        have = {(r["path"], r["direction"], r["size"])
                for r in got["plats"] if r["ops"] > 0}
        out += ["no polled-mode latency for %s %s %s" % (p + m, d, size)
                for p in POLL_PATHS for m in ("-irq", "-poll")
                for d in ("h2c", "c2h") for size in poll_sizes.split(",")
                if (p + m, d, parse_size(size)) not in have]
    return out
