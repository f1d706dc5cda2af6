# SPDX-License-Identifier: GPL-2.0-or-later
"""Parallel boots (--jobs), slices (--shard) and their merge: the same
verdicts, in the same order, as one boot after another in one run."""

import contextlib
import io
import json
import os
import re
import shlex
import sys
import tempfile
import textwrap
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgdma_harness as harness  # noqa: E402
import shard  # noqa: E402
from test_harness import (TEST_MANIFEST, clean_programs,  # noqa: E402
                          results)

# A boot per cell, chosen by the guest's sgdma_cell= parameter: boots can
# run in any order and at once. Each sleeps as long as its cell says.
FAKE_QEMU = textwrap.dedent("""\
    #!/usr/bin/env python3
    import json, os, re, sys, time
    with open(os.environ["FAKE_QEMU_BOOTS"]) as f:
        boots = json.load(f)
    cmdline = sys.argv[sys.argv.index("-append") + 1]
    cell = re.search(r"sgdma_cell=(\\S+)", cmdline).group(1)
    boot = boots[cell]
    start = time.monotonic()
    time.sleep(boot["delay"])
    with open(os.environ["FAKE_QEMU_TIMES"], "a") as f:
        f.write("%s %f %f\\n" % (cell, start, time.monotonic()))
    files = [a[len("file:"):] for a in sys.argv if a.startswith("file:")]
    for path, text in zip(files, ("", boot["results"])):
        with open(path, "w") as f:
            f.write(text)
    """)

# Cells with the time each boot takes: the first ends last.
DELAYS = {"no-iommu": 0.8, "swiotlb": 0.0, "iommu-strict": 0.4}
FAILING = "swiotlb"


class Runs(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(lambda: __import__("shutil").rmtree(self.dir))
        qemu = os.path.join(self.dir, "qemu")
        with open(qemu, "w") as f:
            f.write(FAKE_QEMU)
        os.chmod(qemu, 0o755)
        mf = os.path.join(self.dir, "manifest")
        with open(mf, "w") as f:
            f.write(TEST_MANIFEST)
        boots = {c: {"delay": d, "results": results(clean_programs(
            ("ok one", "not ok two") if c == FAILING else
            ("ok one", "ok two")))} for c, d in DELAYS.items()}
        path = os.path.join(self.dir, "boots.json")
        with open(path, "w") as f:
            json.dump(boots, f)
        os.environ["FAKE_QEMU_BOOTS"] = path
        self.times = os.path.join(self.dir, "times")
        os.environ["FAKE_QEMU_TIMES"] = self.times
        self.base = ["test", "--qemu", qemu, "--manifest", mf,
                     "--series", "6.1", "vmlinuz", "initrd",
                     "%s/logs/6.1", " ".join(DELAYS),
                     "--check", "ok=true", "--check", "bad=false",
                     "--tap-check", "tap=echo 1..1; echo ok 1 t"]

    def run_test(self, name, *extra):
        """The harness' test mode into its own directory; (exit status,
        stdout, the directory)."""
        out = os.path.join(self.dir, name)
        argv = [a.replace("%s", out) for a in self.base] + [
            "--logdir", out + "/logs", "--junit", out + "/junit.xml"]
        args = harness.parser().parse_intermixed_args(argv + list(extra))
        text = io.StringIO()
        with contextlib.redirect_stdout(text):
            status = harness.cmd_test(args)
        return status, text.getvalue(), out

    @staticmethod
    def verdicts(stdout):
        """The TAP lines and the closing line, without the timings."""
        return [re.sub(r"\d+\.\d s", "T s", line)
                for line in stdout.splitlines()
                if re.match(r"(not )?ok \d|\d+ passed|1\.\.", line)]


class ParallelBoots(Runs):
    def test_same_verdicts_in_the_same_order(self):
        status1, out1, _ = self.run_test("serial", "--jobs", "1")
        status3, out3, _ = self.run_test("parallel", "--jobs", "3")
        self.assertEqual((status1, status3), (1, 1))
        self.assertEqual(self.verdicts(out1), self.verdicts(out3))
        boots = []
        for line in self.verdicts(out3):
            m = re.search(r" (6\.1/[\w-]+): ", line)
            if m and m.group(1) not in boots:
                boots.append(m.group(1))
        self.assertEqual(boots, ["6.1/" + c for c in DELAYS])
        summary = [line.split()[1] for line in out3.splitlines()
                   if re.match(r"# 6\.1/", line)]
        self.assertEqual(summary, ["6.1/" + c for c in DELAYS])

    def test_boots_overlap(self):
        # When each boot ran, from the boots themselves: true overlap, not
        # a wall-clock bound that a loaded machine can break.
        self.run_test("parallel", "--jobs", "3")
        with open(self.times) as f:
            ran = {c: (float(a), float(b))
                   for c, a, b in (line.split() for line in f)}
        self.assertEqual(sorted(ran), sorted(DELAYS))
        longest, middle = ran["no-iommu"], ran["iommu-strict"]
        self.assertLess(max(longest[0], middle[0]),
                        min(longest[1], middle[1]), ran)

    def test_no_file_shared_between_boots(self):
        _, _, out = self.run_test("parallel", "--jobs", "3")
        owner = {}
        for cell in DELAYS:
            logdir = os.path.join(out, "logs", "6.1", cell)
            with open(os.path.join(logdir, "qemu.cmd")) as f:
                cmd = shlex.split(f.read())
            written = [a[len("file:"):] for a in cmd if a.startswith("file:")]
            written += [a.split(":")[1].split(",")[0] for a in cmd
                        if a.startswith("unix:")]
            self.assertEqual(len(written), 3, cmd)
            for path in written:
                self.assertNotIn(path, owner, "%s and %s share %s"
                                 % (owner.get(path), cell, path))
                owner[path] = cell

    def test_boots_sharing_a_log_directory_are_refused(self):
        s = harness.Series("6.1", "k", "i", self.dir, [])
        args = harness.parser().parse_intermixed_args(["test", "--jobs", "2"])
        with self.assertRaises(SystemExit):
            harness.run_boots(args, [(s, "swiotlb"), (s, "swiotlb")])


PLAN = (["host: %s" % n for n in ("harness_selftest", "checkpatch_kernel",
                                  "checkpatch_qemu", "bench_smoke",
                                  "libsgdma", "sgdma_cli", "pkgconfig",
                                  "packages")] +
        ["qtest-qemu-7.2-default", "qtest-qemu-10.0-default",
         "qtest-qemu-7.2-asan"] +
        ["%s/%s" % (s, c) for s in ("6.1", "6.12") for c in harness.CELLS] +
        ["debug/iommu-strict", "6.1-dkms/iommu-strict",
         "6.1-qemu-10.0/iommu-strict"])
WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                       "..", "ci", "shard-weights")


class Slices(unittest.TestCase):
    def test_slices_cover_the_plan_once(self):
        weights = shard.load_weights(WEIGHTS)
        for n in range(1, 8):
            with self.subTest(n=n):
                slices = [shard.select(PLAN, (i, n), weights)
                          for i in range(1, n + 1)]
                joined = [u for s in slices for u in s]
                self.assertEqual(sorted(joined), sorted(PLAN))
                # Each slice keeps the plan's order.
                for s in slices:
                    self.assertEqual(s, [u for u in PLAN if u in s])

    def test_slices_are_balanced(self):
        weights = shard.load_weights(WEIGHTS)
        heaviest = max(shard.weight(u, weights) for u in PLAN)
        for n in range(2, 6):
            loads = [sum(shard.weight(u, weights) for u in s)
                     for s in shard.partition(PLAN, n, weights)]
            self.assertLessEqual(max(loads) - min(loads), heaviest, loads)

    def test_same_slices_for_every_runner(self):
        weights = shard.load_weights(WEIGHTS)
        first = shard.partition(PLAN, 4, weights)
        for _ in range(3):
            self.assertEqual(shard.partition(list(PLAN), 4, dict(weights)),
                             first)

    def test_boots_of_a_slice_depend_on_the_boots_alone(self):
        # ci/test.sh builds the series of a slice's boots knowing only
        # the boots; the harness picks them from the whole plan.
        weights = shard.load_weights(WEIGHTS)
        boots = [u for u in PLAN if "/" in u]
        for n in range(2, 6):
            for i in range(1, n + 1):
                whole = shard.select(PLAN, (i, n), weights, set(boots))
                alone = shard.select(boots, (i, n), weights, set(boots))
                self.assertEqual([u for u in whole if u in boots], alone)

    def test_bad_shard_is_refused(self):
        for bad in ("0/2", "3/2", "1", "a/b", ""):
            with self.assertRaises(ValueError):
                shard.parse_shard(bad)


class Merge(Runs):
    def merge(self, name, *dirs):
        out = os.path.join(self.dir, name)
        args = harness.parser().parse_intermixed_args(
            ["merge", "--junit", out + "/junit.xml"] +
            [os.path.join(d, "results.json") for d in dirs])
        os.makedirs(out)
        text = io.StringIO()
        with contextlib.redirect_stdout(text):
            status = harness.cmd_merge(args)
        return status, text.getvalue(), out

    def test_merged_slices_are_the_whole_run(self):
        _, whole, wdir = self.run_test("whole")
        dirs = [self.run_test("s%d" % i, "--shard", "%d/3" % i)[2]
                for i in (1, 2, 3)]
        status, merged, mdir = self.merge("merged", *dirs)
        self.assertEqual(status, 1)
        self.assertEqual(self.verdicts(merged), self.verdicts(whole))

        def suites(d):
            root = ET.parse(os.path.join(d, "junit.xml")).getroot()
            return [(s.get("name"), s.get("tests"), s.get("failures"))
                    for s in root.iter("testsuite")]
        self.assertEqual(suites(mdir), suites(wdir))

    def test_slices_run_disjoint_units(self):
        names = []
        for i in (1, 2):
            _, _, d = self.run_test("s%d" % i, "--shard", "%d/2" % i)
            names += [s["name"] for s in shard.read_results(
                os.path.join(d, "results.json"))["suites"]]
        self.assertEqual(len(names), len(set(names)))
        self.assertEqual(len(names), 3 + len(DELAYS))

    def test_missing_slice_fails(self):
        d1 = self.run_test("s1", "--shard", "1/3")[2]
        d3 = self.run_test("s3", "--shard", "3/3")[2]
        status, out, _ = self.merge("merged", d1, d3)
        self.assertEqual(status, 1)
        self.assertIn("not ok", out)
        self.assertIn("slice(s) 2 of 3 missing", out)

    def test_unit_missing_from_a_slice_fails(self):
        d1 = self.run_test("s1", "--shard", "1/2")[2]
        d2 = self.run_test("s2", "--shard", "2/2")[2]
        path = os.path.join(d2, "results.json")
        data = shard.read_results(path)
        lost = data["suites"].pop()["name"]
        with open(path, "w") as f:
            json.dump(data, f)
        status, out, _ = self.merge("merged", d1, d2)
        self.assertEqual(status, 1)
        self.assertIn("%s: planned, in no slice's results" % lost, out)

    def test_slice_given_twice_fails(self):
        d1 = self.run_test("s1", "--shard", "1/2")[2]
        d2 = self.run_test("s2", "--shard", "2/2")[2]
        status, out, _ = self.merge("merged", d1, d2, d2)
        self.assertIn("slice(s) 2 given twice", out)


if __name__ == "__main__":
    unittest.main()
