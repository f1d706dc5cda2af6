# SPDX-License-Identifier: GPL-2.0-or-later
"""Slices of a run for CI runners, and the merge of their results.

A run is a list of units, each one <testsuite> of the JUnit file: a host
check ("host: NAME"), a qtest run ("qtest-LABEL") or a boot
("SERIES/CELL"). SHARD=i/N runs the i-th of N slices: every runner
computes the same slices from the same plan and the weights committed in
ci/shard-weights (never from timings of its own, which differ between
runners), so together the N slices run each unit exactly once.

Each run (a slice or the whole) writes results.json beside its JUnit file:
its slice, the whole plan and its suites, losslessly. The merge reads the
slices' files, refuses a missing, repeated or inconsistent slice and any
planned unit no slice ran, and returns the suites in the order of the
plan, which is the order of an unsharded run.
"""

import json
import re

# Seconds of a unit that ci/shard-weights does not list, by its name:
# the first pattern that matches.
ESTIMATES = (
    (r"^debug/", 330),
    (r"^qtest-.*asan", 240),
    (r"^qtest-", 30),
    (r"^host: ", 20),
    (r"", 75),              # a boot
)


def parse_shard(text):
    """"i/N" -> (i, N), 1 <= i <= N; ValueError otherwise."""
    m = re.fullmatch(r"(\d+)/(\d+)", text or "")
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise ValueError("SHARD must be i/N with 1 <= i <= N, not %r" % text)
    return int(m.group(1)), int(m.group(2))


def load_weights(path):
    """ci/shard-weights: "SECONDS NAME" per line, # comments."""
    weights = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            seconds, name = line.split(None, 1)
            weights[name] = float(seconds)
    return weights


def weight(name, weights):
    if name in weights:
        return weights[name]
    return next(s for pattern, s in ESTIMATES if re.search(pattern, name))


def partition(units, n, weights, first=()):
    """@units split into @n lists of about equal weight, each in the
    order of @units. Longest first onto the lightest slice (ties: the
    lowest), ties between units broken by name: the same for every
    runner. The units in @first (the boots) are dealt before the others,
    so their slices depend on them alone: ci/test.sh builds a kernel
    series only for a slice that boots it, knowing only the boots."""
    if len(set(units)) != len(units):
        raise ValueError("units named twice in the plan")
    load = [0.0] * n
    member = [set() for _ in range(n)]
    for name in sorted(units, key=lambda u: (u not in first,
                                             -weight(u, weights), u)):
        i = min(range(n), key=lambda k: (load[k], k))
        load[i] += weight(name, weights)
        member[i].add(name)
    return [[u for u in units if u in m] for m in member]


def select(units, shard, weights, first=()):
    """The units of slice @shard ((i, N)) of @units."""
    i, n = shard
    return partition(units, n, weights, first)[i - 1]


def write_results(path, suites, totals, plan, shard):
    """results.json: @suites (sgdma_harness.Suite), the pin totals and
    retry of each boot (@totals: suite name -> (totals, retried)), the
    whole @plan and this run's @shard ((i, N), or None)."""
    data = {"shard": list(shard) if shard else None, "plan": plan,
            "suites": []}
    for s in suites:
        t, retried = totals.get(s.name, (None, None))
        data["suites"].append({
            "name": s.name, "seconds": s.seconds, "output": s.output,
            "properties": s.properties, "totals": t, "retried": retried,
            "boot": s.name in totals,
            "cases": [vars(c) for c in s.cases]})
    with open(path, "w") as f:
        json.dump(data, f, indent=1)


def read_results(path):
    with open(path) as f:
        return json.load(f)


def merge(runs):
    """The suites of @runs (read_results() of each slice), in plan
    order, and a list of problems (empty when the slices are complete)."""
    problems = []
    shards = [tuple(r["shard"]) if r["shard"] else None for r in runs]
    if not runs:
        return [], ["no results to merge"]
    if None in shards:
        problems.append("an unsharded run among the slices")
        return [], problems
    totals = {n for _, n in shards}
    plans = {json.dumps(r["plan"]) for r in runs}
    if len(totals) != 1 or len(plans) != 1:
        problems.append("slices of different runs: %s" % sorted(shards))
        return [], problems
    n = totals.pop()
    seen = sorted(i for i, _ in shards)
    missing = sorted(set(range(1, n + 1)) - set(seen))
    repeated = sorted({i for i in seen if seen.count(i) > 1})
    if missing:
        problems.append("slice(s) %s of %d missing"
                        % (", ".join(map(str, missing)), n))
    if repeated:
        problems.append("slice(s) %s given twice"
                        % ", ".join(map(str, repeated)))
    plan = runs[0]["plan"]
    by_name = {}
    for r in runs:
        for s in r["suites"]:
            if s["name"] in by_name and not repeated:
                problems.append("%s ran in two slices" % s["name"])
            by_name[s["name"]] = s
    for name in plan:
        if name not in by_name:
            problems.append("%s: planned, in no slice's results" % name)
    extra = sorted(set(by_name) - set(plan))
    if extra:
        problems.append("not in the plan: %s" % ", ".join(extra))
    order = {name: i for i, name in enumerate(plan)}
    return sorted(by_name.values(), key=lambda s: order.get(
        s["name"], len(order))), problems


def main(argv):
    """shard.py RESULTS.json: the measured seconds of every unit of a
    run, in ci/shard-weights' format."""
    for path in argv[1:]:
        for s in read_results(path)["suites"]:
            print("%-4d %s" % (round(s["seconds"]), s["name"]))


if __name__ == "__main__":
    import sys
    main(sys.argv)
