#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Tests of the harness' own judgement, against a fake QEMU.

The fake QEMU writes the two serial files the harness gives it (console,
results) from scripted boots, so each test sets up exactly what a guest
would have printed and checks the verdict: every rule of the judge
(counting, justified skips, the manifest, the kernel log, announced IOMMU
faults, the retry, the allocation-failure excusal, pin totals, JUnit) has
a test here that fails when the rule is taken out.

Run: python3 -m unittest discover -s tests/harness -p 'test_*.py'
"""

import argparse
import contextlib
import glob
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import manifest  # noqa: E402
import sgdma_harness as harness  # noqa: E402

OOPS_INT3 = "[    1.096054] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI"
INT3_REPORT = [
    OOPS_INT3,
    "[    1.096060] CPU: 1 PID: 0 Comm: swapper/1 Not tainted 6.12.9 #1",
    "[    1.096070] RIP: 0010:sched_clock_idle_wakeup_event+0x5/0x30",
    "[    1.096080] Call Trace:",
    "[    1.096081]  <TASK>",
    "[    1.096082]  do_idle+0x1a4/0x260",
    "[    1.096083]  </TASK>",
    "[    1.096090] Kernel panic - not syncing: Fatal exception",
]

# The manifest of the scripted boots: two programs and a check.
TEST_MANIFEST = textwrap.dedent("""\
    # test manifest
    prog_a   2
    prog_b   1
    final    -   always  series=debug
    """)

TOTALS = ("# totals: %s foll_pin_acquired=20 foll_pin_released=20"
          " driver_pages_pinned=0 driver_pages_leaked=0 kernel_problems=0")


def program(number, name, cases, plan=None, exit_ok=True, output=()):
    """A program's lines as the runner prints them: its KTAP indented,
    its result, its totals. @cases: "ok NAME..." or "not ok NAME...",
    numbered here."""
    body = ["KTAP version 1", "1..%d" % (len(cases) if plan is None else plan)]
    body += list(output)
    body += [re.sub(r"^((?:not )?ok) ", r"\g<1> %d " % i, c)
             for i, c in enumerate(cases, 1)]
    lines = [harness.RUNNING_PREFIX + name]
    lines += ["    " + line for line in body]
    lines.append("ok %d %s" % (number, name) if exit_ok
                 else "not ok %d %s # exit status 1" % (number, name))
    lines.append(TOTALS % name)
    return lines


def results(programs, kmsg=(), plan=None, done=True):
    """A whole result stream: init marker, runner KTAP, kernel log."""
    lines = [harness.INIT_MARKER, "KTAP version 1",
             "1..%d" % (1 + (len(programs) if plan is None else plan)),
             "ok 1 module_load", TOTALS % "start"]
    for p in programs:
        lines += p
    lines.append("# sgdma: kernel log follows")
    lines += [harness.KMSG_PREFIX + line for line in kmsg]
    if done:
        lines.append(harness.DONE_MARKER)
    return "\n".join(lines) + "\n"


def clean_programs(a_cases=("ok one", "ok two"), a_output=()):
    return [program(2, "prog_a", list(a_cases), output=a_output),
            program(3, "prog_b", ["ok three"])]


CLEAN = results(clean_programs())

# One scripted boot per invocation of the fake QEMU, in order.
FAKE_QEMU = textwrap.dedent("""\
    #!/usr/bin/env python3
    import json, os, sys
    script = os.environ["FAKE_QEMU_SCRIPT"]
    with open(script) as f:
        boots = json.load(f)
    boot = boots.pop(0)
    with open(script, "w") as f:
        json.dump(boots, f)
    files = [a[len("file:"):] for a in sys.argv if a.startswith("file:")]
    for path, text in zip(files, (boot["console"], boot["results"])):
        with open(path, "w") as f:
            f.write(text)
    """)


class FakeBoots(unittest.TestCase):
    """Boots of scripted guests through the harness' own boot_cell()."""

    series = "6.1"
    cell = "iommu-strict"

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        qemu = os.path.join(self.dir.name, "qemu")
        with open(qemu, "w") as f:
            f.write(FAKE_QEMU)
        os.chmod(qemu, 0o755)
        self.script = os.path.join(self.dir.name, "boots.json")
        os.environ["FAKE_QEMU_SCRIPT"] = self.script
        self.manifest = os.path.join(self.dir.name, "manifest")
        with open(self.manifest, "w") as f:
            f.write(TEST_MANIFEST)
        self.args = argparse.Namespace(
            qemu=qemu, memory=512, timeout=30, append=[], qemu_arg=[],
            kernel="vmlinuz", initrd="initrd", logdir=self.dir.name,
            series_label="", manifest=self.manifest, tests=None)

    def boot(self, *boots, cell=None, series=None):
        """Boot the scripted @boots (dicts of console and results text,
        or results text alone); return {case name: Case} and the Boot."""
        boots = [b if isinstance(b, dict) else {"console": "", "results": b}
                 for b in boots]
        with open(self.script, "w") as f:
            json.dump(boots, f)
        cell = cell or self.cell
        label = self.series if series is None else series
        s = harness.Series(label, "vmlinuz", "initrd", self.dir.name, [cell])
        with contextlib.redirect_stdout(io.StringIO()):
            boot = harness.boot_cell(self.args, cell, s)
        with open(self.script) as f:
            self.left = json.load(f)
        self.logdir = os.path.join(self.dir.name, cell)
        return {c.name.split(": ", 1)[1]: c for c in boot.suite.cases}, boot

    def assertFails(self, cases, name, *words):
        self.assertIn(name, cases, sorted(cases))
        self.assertFalse(cases[name].ok, cases[name])
        for w in words:
            self.assertIn(w, cases[name].detail)

    def assertAllOk(self, cases):
        bad = {n: c.detail for n, c in cases.items() if not c.ok}
        self.assertEqual(bad, {})


class Counting(FakeBoots):
    """Skips are counted as skipped, never passed, and must be justified
    by a feature the boot lacks."""

    def skipping(self, directive, **kw):
        return self.boot(results(clean_programs(
            ("ok one", "ok two # SKIP " + directive))), **kw)

    def test_clean_boot_passes_once(self):
        cases, boot = self.boot(CLEAN)
        self.assertAllOk(cases)
        self.assertFalse(any(c.skipped for c in cases.values()))
        self.assertIsNone(boot.retried)
        self.assertEqual(self.left, [])

    def test_justified_skip_counts_as_skipped(self):
        cases, boot = self.skipping("needs=ats,bounce: no ATS here")
        self.assertAllOk(cases)
        self.assertTrue(cases["prog_a/two"].skipped)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            status = harness.report([boot.suite], [boot])
        passed = len(cases) - 1
        self.assertEqual(status, 0)
        self.assertEqual(out.getvalue().splitlines()[-1],
                         "%d passed, 0 failed, 1 skipped" % passed)
        self.assertRegex(out.getvalue(),
                         r"# 6\.1/iommu-strict +%d +0 +1 +no " % passed)

    def test_skip_without_needs_fails(self):
        cases, _ = self.skipping("no IOMMU in this cell")
        self.assertFails(cases, "prog_a/two", "needs=")

    def test_skip_of_a_provided_feature_fails(self):
        cases, _ = self.skipping("needs=iommu: no IOMMU in this cell")
        self.assertFails(cases, "prog_a/two", "provides iommu")

    def test_skip_needs_all_provided_to_fail(self):
        cases, _ = self.skipping("needs=iommu,iommu-strict: why")
        self.assertFails(cases, "prog_a/two", "provides")
        cases, _ = self.skipping("needs=iommu,iommu-lazy: why")
        self.assertTrue(cases["prog_a/two"].skipped)

    def test_skip_of_an_unknown_feature_fails(self):
        cases, _ = self.skipping("needs=iommu-strikt: typo")
        self.assertFails(cases, "prog_a/two", "unknown feature")

    def test_every_boot_provides_hotplug(self):
        cases, _ = self.skipping("needs=hotplug: why", cell="no-iommu")
        self.assertFails(cases, "prog_a/two", "provides hotplug")

    def test_series_features(self):
        """fault-injection: a justified skip on 6.1, not in the debug lane."""
        cases, _ = self.skipping("needs=fault-injection: none")
        self.assertTrue(cases["prog_a/two"].skipped)
        debug = results(clean_programs(
            ("ok one", "ok two # SKIP needs=fault-injection: none")) +
            [["    1..0", "ok 4 final"]])
        cases, _ = self.boot(debug, series="debug")
        self.assertFails(cases, "prog_a/two", "provides fault-injection")

    def test_not_ok_skip_fails(self):
        cases, _ = self.boot(results(clean_programs(
            ("ok one", "not ok two # SKIP needs=ats: why"))))
        self.assertFails(cases, "prog_a/two")


class CommandLine(FakeBoots):
    """The guest learns its boot and its program list from the kernel
    command line, which must fit x86's 2048 bytes."""

    def cmdline(self):
        with open(os.path.join(self.logdir, "qemu.cmd")) as f:
            cmd = f.read()
        return re.search(r"-append '([^']*)'", cmd).group(1).split()

    def test_parameters(self):
        self.boot(CLEAN, cell="strict")
        words = self.cmdline()
        for w in ("sgdma_cell=strict", "sgdma_series=6.1",
                  "sgdma_provides=iommu,iommu-strict,strict-device,hotplug",
                  "sgdma_tests=prog_a,prog_b"):
            self.assertIn(w, words)
        props = [w for w in words if w.startswith("sgdma_devprops=")]
        self.assertEqual(props, ["sgdma_devprops=" + harness.CELLS[
            "strict"]["sgdma"].lstrip(",")])

    def test_an_oops_ends_the_boot(self):
        self.boot(CLEAN, cell="no-iommu")
        self.assertIn("oops=panic", self.cmdline())
        self.assertIn("panic=-1", self.cmdline())
        with open(os.path.join(self.logdir, "qemu.cmd")) as f:
            self.assertIn("-no-reboot", f.read().split())

    def test_no_devprops_without_sgdma_props(self):
        self.boot(CLEAN, cell="no-iommu")
        words = self.cmdline()
        self.assertIn("sgdma_provides=hotplug", words)
        self.assertFalse([w for w in words if "devprops" in w])

    def test_debug_series(self):
        self.boot(CLEAN, series="debug")
        words = self.cmdline()
        self.assertIn("sgdma_provides=iommu,iommu-strict,fault-injection,"
                      "kernel-debug,hotplug", words)
        self.assertIn("sgdma_tests=prog_a,prog_b,final", words)

    def kernel_with_config(self, *options):
        """A kernel image with a config of @options beside it, as
        ci/kernel-ksrc.sh installs one; its path."""
        boot = os.path.join(self.dir.name, "boot")
        os.makedirs(boot, exist_ok=True)
        with open(os.path.join(boot, "config-9.9-test"), "w") as f:
            f.write("".join(o + "\n" for o in options))
        self.addCleanup(harness.SERIES_SETTINGS.pop, "ksrc", None)
        return os.path.join(boot, "vmlinuz-9.9-test")

    SUITE_CONFIG = ("CONFIG_HOTPLUG_PCI_PCIE=y", "CONFIG_PCIEAER=y",
                    "CONFIG_BLOCK=y",
                    "CONFIG_VIRTIO_PCI=y", "CONFIG_VIRTIO_BLK=m",
                    "CONFIG_EXT4_FS=m", "CONFIG_SWIOTLB=y")

    def boot_kernel(self, kernel, cell, *boots):
        with open(self.script, "w") as f:
            json.dump(list(boots), f)
        s = harness.Series("ksrc", kernel, "initrd", self.dir.name, [cell])
        with contextlib.redirect_stdout(io.StringIO()):
            boot = harness.boot_cell(self.args, cell, s)
        self.logdir = os.path.join(self.dir.name, cell)
        return {c.name.split(": ", 1)[1]: c for c in boot.suite.cases}

    def test_cell_the_config_cannot_boot_is_skipped_with_its_needs(self):
        kernel = self.kernel_with_config(*self.SUITE_CONFIG)
        cases = self.boot_kernel(kernel, "iommu-ats", {"console": "",
                                                       "results": CLEAN})
        self.assertEqual(list(cases), ["boot"])
        self.assertTrue(cases["boot"].ok and cases["boot"].skipped)
        self.assertIn("SKIP needs=iommu,ats:", cases["boot"].detail)
        self.assertIn("CONFIG_INTEL_IOMMU", cases["boot"].detail)
        with open(self.script) as f:
            self.assertEqual(len(json.load(f)), 1, "QEMU was started")

    def test_config_with_the_detectors_boots_as_the_debug_lane(self):
        kernel = self.kernel_with_config(
            *self.SUITE_CONFIG, *(o + "=y" for needs in
                                  harness.kconfig.SERIES_NEEDS.values()
                                  for o in needs),
            "CONFIG_PAGE_POISONING=y", "CONFIG_DEBUG_PAGEALLOC=y")
        self.assertAllOk(self.boot_kernel(kernel, "no-iommu", {
            "console": "", "results": CLEAN}))
        words = self.cmdline()
        self.assertIn("sgdma_provides=fault-injection,kernel-debug,hotplug",
                      words)
        for w in ("page_poison=1", "debug_pagealloc=on",
                  "slub_debug=A,kmalloc-*"):
            self.assertIn(w, words)

    def test_every_boot_has_a_disk_of_its_own(self):
        self.boot(CLEAN, cell="no-iommu")
        image = os.path.join(self.logdir, "disk.img")
        with open(os.path.join(self.logdir, "qemu.cmd")) as f:
            cmd = shlex.split(f.read())
        self.assertIn("file=%s,format=raw,if=none,id=sgdma-disk" % image,
                      cmd)
        self.assertIn("virtio-blk-pci,drive=sgdma-disk", cmd)
        self.assertEqual(os.path.getsize(image), 16 << 20)

    def test_tests_filter_keeps_always_entries(self):
        self.args.tests = ["prog_b"]
        self.boot(CLEAN, series="debug")
        self.assertIn("sgdma_tests=prog_b,final", self.cmdline())

    def test_features_select_by_what_the_boot_provides(self):
        entries = manifest.parse("a 1 features=!kernel-debug\n"
                                 "b 1 features=iommu,ats\n")
        names = lambda provides: [e.name for e in manifest.boot_entries(
            entries, "ksrc", "no-iommu", None, provides)]
        self.assertEqual(names(()), ["a"])
        self.assertEqual(names(("kernel-debug", "iommu", "ats")), ["b"])
        self.assertEqual(names(("iommu",)), ["a"])

    def test_a_ksrc_kernel_with_debug_options_skips_what_the_lane_skips(self):
        harness.SERIES_SETTINGS["ksrc"] = {"provides": ["kernel-debug"]}
        try:
            names = [e.name for e in manifest.boot_entries(
                manifest.load(), "ksrc", "no-iommu", None,
                harness.boot_provides("ksrc", "no-iommu"))]
        finally:
            del harness.SERIES_SETTINGS["ksrc"]
        self.assertNotIn("sgdma_wedged", names)
        self.assertNotIn("sgdma_hotplug", names)

    def test_unknown_feature_is_refused(self):
        with self.assertRaisesRegex(ValueError, "unknown feature kernel-dbg"):
            manifest.parse("a 1 features=!kernel-dbg\n")

    def test_unknown_test_name_is_refused(self):
        with self.assertRaisesRegex(ValueError, "not in the manifest"):
            manifest.boot_entries(manifest.parse(TEST_MANIFEST), "6.1",
                                  "no-iommu", ["prog_c"])

    def test_too_long_command_line_fails_without_booting(self):
        self.args.append = ["x" * 2000]
        cases, _ = self.boot(CLEAN)
        self.assertFails(cases, "command_line", "2047")
        self.assertEqual(len(self.left), 1, "booted anyway")


class Manifest(FakeBoots):
    """The results must be exactly what the manifest lists."""

    def test_missing_program_fails(self):
        cases, _ = self.boot(results(clean_programs()[:1]))
        self.assertFails(cases, "prog_b", "missing")

    def test_program_not_in_the_initramfs_fails(self):
        gone = clean_programs()[:1] + [
            ["not ok 3 prog_b # not in the initramfs", TOTALS % "prog_b"]]
        cases, _ = self.boot(results(gone))
        self.assertFails(cases, "prog_b", "not in the initramfs")

    def test_extra_program_fails(self):
        extra = clean_programs() + [program(4, "prog_c", ["ok x"])]
        cases, _ = self.boot(results(extra))
        self.assertFails(cases, "prog_c", "not in the manifest")

    def test_plan_differing_from_the_manifest_fails(self):
        cases, _ = self.boot(results(clean_programs(("ok one",))))
        self.assertFails(cases, "prog_a", "the manifest says 2")

    def test_missing_cases_fail(self):
        """A program that stops short of its plan (the required cases)."""
        short = [program(2, "prog_a", ["ok one"], plan=2),
                 program(3, "prog_b", ["ok three"])]
        cases, _ = self.boot(results(short))
        self.assertFails(cases, "prog_a", "planned 2 cases, reported 1")

    def test_program_without_ktap_fails(self):
        silent = [["ok 2 prog_a", TOTALS % "prog_a"],
                  program(3, "prog_b", ["ok three"])]
        cases, _ = self.boot(results(silent))
        self.assertFails(cases, "prog_a", "printed no KTAP")

    def test_bail_out_fails(self):
        cases, _ = self.boot(results(clean_programs(
            a_output=["Bail out! no device"])))
        self.assertFails(cases, "bail_out", "no device")

    def test_truncated_stream_fails(self):
        cut = CLEAN[:CLEAN.index("    ok 1 three")] + "    ok 1 three\n"
        cases, _ = self.boot(cut)
        self.assertFails(cases, "truncated", "ended inside a test")
        self.assertFails(cases, "boot_complete")
        self.assertFails(cases, "prog_b", "missing")

    def test_failed_case_says_why_from_its_diagnostics(self):
        """A failed case with no directive: its last diagnostics (what
        EXPECT printed) are its detail; an earlier case's are not."""
        said = [program(2, "prog_a", [
            "# earlier case's note", "ok one",
            "# channel 3: 1 in flight, 8 wanted",
            "# ring.c:110: expected most >= full_ring()", "not ok two"],
            plan=2), program(3, "prog_b", ["ok three"])]
        cases, _ = self.boot(results(said))
        self.assertFails(cases, "prog_a/two", "1 in flight, 8 wanted",
                         "expected most >= full_ring()")
        self.assertNotIn("earlier", cases["prog_a/two"].detail)

    def test_failure_detail_starts_at_the_first_failed_expectation(self):
        """The first failed EXPECT and what follows it, not the last
        lines (consequences), nor the program's preamble before its first
        case, nor a later case's."""
        said = [program(2, "prog_a", [
            "# sgdma0: 4 channels, card 65536 KiB, dma_bits 64",
            "# a.c:40: expected batch(q, x, 16) == 5",
            "# a.c:41: expected batch(q, x + 5, 11) == -ENOENT",
            "# data differs at byte 327680",
            "# a.c:58: expected reap_n(q, g, 16, 4, 10.0)",
            "# a.c:60: expected same(b, a, len)", "not ok one",
            "# b.c:7: expected x", "# noted after", "not ok two"],
            plan=2), program(3, "prog_b", ["ok three"])]
        cases, _ = self.boot(results(said))
        one = cases["prog_a/one"].detail
        self.assertTrue(one.startswith("a.c:40: expected batch"), one)
        self.assertIn("data differs", one)
        self.assertNotIn("sgdma0:", one)
        self.assertNotIn("a.c:58", one)
        self.assertFails(cases, "prog_a/two", "b.c:7: expected x")
        self.assertNotIn("a.c:", cases["prog_a/two"].detail)

    def test_failure_without_expectation_says_its_last_lines(self):
        said = [program(2, "prog_a", [
            "# first", "# second", "# third", "# fourth", "not ok one"])]
        cases, _ = self.boot(results(said))
        self.assertEqual(cases["prog_a/one"].detail,
                         "second / third / fourth")

    def test_unfinished_boot_says_what_was_running(self):
        hung = clean_programs()[0] + [harness.RUNNING_PREFIX + "prog_b"]
        cases, _ = self.boot(results([hung], done=False))
        self.assertFails(cases, "boot_complete", "without the done marker",
                         "while running prog_b")
        self.assertFails(cases, "prog_b", "missing")

    def test_failed_cases_are_repeated_after_the_summary(self):
        cases = [harness.Case("b: one", True),
                 harness.Case("b: two", False, "why")]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            status = harness.report([harness.Suite("b", cases)])
        self.assertEqual(status, 1)
        tail = out.getvalue().split("# failed cases: 1\n", 1)
        self.assertEqual(len(tail), 2, out.getvalue())
        self.assertTrue(tail[1].startswith("# failed: b: two # why\n"))

    def test_out_of_order_fails(self):
        swapped = [program(2, "prog_b", ["ok three"]),
                   program(3, "prog_a", ["ok one", "ok two"])]
        cases, _ = self.boot(results(swapped))
        self.assertFails(cases, "order", "prog_b,prog_a")

    def test_results_out_of_sequence_fail(self):
        """A runner or program that lost count (the runner once reused its
        case counter for the pinned-page sum)."""
        lost = CLEAN.replace("ok 3 prog_b", "ok 1 prog_b")
        cases, _ = self.boot(lost)
        self.assertFails(cases, "numbering", "1,2,1")
        nested = CLEAN.replace("    ok 2 two", "    ok 1 two")
        cases, _ = self.boot(nested)
        self.assertFails(cases, "prog_a", "numbered 1,1")

    def test_program_reported_twice_fails(self):
        twice = clean_programs() + [program(4, "prog_b", ["ok three"])]
        cases, _ = self.boot(results(twice))
        self.assertFails(cases, "prog_b", "reported 2 times")


# A fault record and its header exactly as 6.1 and 6.12 print them (from
# the console of a 6.1 iommu-strict boot: sgdma_ats_vfio's fault on
# purpose, through VFIO, on the function behind the root port).
DRHD = "[   20.557271] DMAR: DRHD: handling fault status reg 2"
FAULT_READ = ("[   20.557838] DMAR: [DMA Read NO_PASID] Request device"
              " [01:00.0] fault addr 0x300000 [fault reason 0x06] PTE Read"
              " access is not set")
EXPECT_READ = ("# sgdma-expect: iommu-fault dev=0000:01:00.0 addr=0x300000"
               " dir=read")


class KernelLog(FakeBoots):
    """Every problem line fails the boot, whatever the tests said."""

    PROBLEMS = [
        "[   5.0] swiotlb buffer is full (sz: 65536 bytes), total 32768"
        " (slots), used 32768 (slots)",
        "[   5.0] __common_interrupt: 1.55 No irq handler for vector",
        "[   5.0] pcieport 0000:00:04.0: AER: Corrected error received:"
        " 0000:00:04.0",
        "[   5.0] pcieport 0000:00:04.0: PCIe Bus Error: severity=Corrected",
        "[   5.0] ** 12 printk messages dropped **",
        "[   5.0] dmar_fault: 25 callbacks suppressed",
        "[   5.0] BUG: Bad page state in process sgdma_data  pfn:1234",
        "[   5.0] pagealloc: memory corruption",
        "[   5.0] kmemleak: 1 new suspected memory leaks (see"
        " /sys/kernel/debug/kmemleak)",
        "[   5.0] DMAR: [INTR-REMAP] Request device [00:03.0] fault index"
        " 0x12 [fault reason 0x25] Blocked a compatibility format interrupt",
        "[   5.0] DMAR: VT-d detected Invalidation Time-out Error: SID 18",
        "[   5.0] int3: 0000 [#1] SMP NOPTI",
        "[   5.0] BUG: KASAN: use-after-free in sgdma_xfer+0x10/0x20",
        "[   5.0] WARNING: CPU: 0 PID: 1 at kernel/dma/debug.c:1 x+0x1/0x2",
    ]

    def test_problems_fail(self):
        for line in self.PROBLEMS:
            with self.subTest(line=line):
                cases, _ = self.boot(results(clean_programs(), kmsg=[line]))
                self.assertFails(cases, "kernel_log_clean")

    def test_problem_on_the_console_fails(self):
        cases, _ = self.boot({"console": self.PROBLEMS[0] + "\n",
                              "results": CLEAN})
        self.assertFails(cases, "kernel_log_clean", "swiotlb buffer")

    def test_harmless_lines_pass(self):
        fine = ["[   1.0] pcieport 0000:00:04.0: AER: enabled with IRQ 24",
                "[   1.0] DMA-API: preallocated 65536 debug entries",
                "[   1.0] DMAR: IOMMU enabled",
                "[   1.0] sgdma 0000:00:03.0: channel 0: 3 callbacks"
                " suppressed"]
        cases, _ = self.boot(results(clean_programs(), kmsg=fine))
        self.assertAllOk(cases)


class IommuFaults(FakeBoots):
    """Exactly the announced IOMMU faults are excused."""

    def faulting(self, announce, kmsg):
        return self.boot(results(clean_programs(a_output=announce),
                                 kmsg=kmsg))

    def test_announced_fault_passes(self):
        cases, _ = self.faulting([EXPECT_READ], [DRHD, FAULT_READ])
        self.assertAllOk(cases)
        self.assertIn("iommu_faults_announced", cases)

    def test_announced_fault_on_the_console_passes(self):
        cases, _ = self.boot({
            "console": DRHD + "\n" + FAULT_READ + "\n",
            "results": results(clean_programs(a_output=[EXPECT_READ]),
                               kmsg=[DRHD, FAULT_READ])})
        self.assertAllOk(cases)

    def test_older_record_format(self):
        old = FAULT_READ.replace("DMA Read NO_PASID", "DMA Read")  # < 5.x
        cases, _ = self.faulting([EXPECT_READ], [DRHD, old])
        self.assertAllOk(cases)

    def test_unannounced_fault_fails(self):
        cases, _ = self.faulting([], [DRHD, FAULT_READ])
        self.assertFails(cases, "kernel_log_clean", "fault addr 0x300000")

    def test_announced_fault_that_did_not_occur_fails(self):
        cases, _ = self.faulting([EXPECT_READ], [])
        self.assertFails(cases, "iommu_faults_announced", "never reported")

    def test_fault_differing_from_its_announcement_fails(self):
        for wrong in (EXPECT_READ.replace("read", "write"),
                      EXPECT_READ.replace("0x300000", "0x301000"),
                      EXPECT_READ.replace("01:00.0", "00:04.0")):
            with self.subTest(announced=wrong):
                cases, _ = self.faulting([wrong], [DRHD, FAULT_READ])
                self.assertFails(cases, "kernel_log_clean", "fault addr")
                self.assertFails(cases, "iommu_faults_announced")

    def test_fault_within_the_announced_page_passes(self):
        inside = FAULT_READ.replace("0x300000", "0x300a40")
        cases, _ = self.faulting([EXPECT_READ], [DRHD, inside])
        self.assertAllOk(cases)

    def test_header_of_an_unannounced_fault_fails(self):
        other = FAULT_READ.replace("01:00.0", "00:04.0")
        later = DRHD.replace("20.557271", "20.600000")
        cases, _ = self.faulting([EXPECT_READ],
                                 [DRHD, FAULT_READ, later, other])
        self.assertFails(cases, "kernel_log_clean", "DRHD")

    def test_malformed_announcement_fails(self):
        cases, _ = self.faulting(["# sgdma-expect: iommu-fault dev=01:00.0"],
                                 [])
        self.assertFails(cases, "iommu_faults_announced", "malformed")


EXPECT_AER = "# sgdma-expect: aer-error port=0000:00:04.0"
AER_REPORT = [
    "[  20.1] pcieport 0000:00:04.0: AER: Uncorrected (Fatal) error message"
    " received from 0000:00:04.0",
    "[  20.1] pcieport 0000:00:04.0: AER: PCIe Bus Error:"
    " severity=Uncorrected (Fatal), type=Data Link Layer, (Receiver ID)",
    "[  20.2] pcieport 0000:00:04.0: AER: Root Port link has been reset (0)",
    "[  20.3] pcieport 0000:00:04.0: AER: device recovery successful"]


class AerErrors(FakeBoots):
    """An announced AER error excuses its port's report, never a failed
    recovery, and must have been received."""

    def erring(self, announce, kmsg):
        return self.boot(results(clean_programs(a_output=announce),
                                 kmsg=kmsg))

    def test_announced_error_passes(self):
        cases, _ = self.erring([EXPECT_AER], AER_REPORT)
        self.assertAllOk(cases)
        self.assertIn("aer_errors_announced", cases)

    def test_unannounced_error_fails(self):
        cases, _ = self.erring([], AER_REPORT)
        self.assertFails(cases, "kernel_log_clean", "PCIe Bus Error")

    def test_announced_error_that_did_not_occur_fails(self):
        cases, _ = self.erring([EXPECT_AER], [])
        self.assertFails(cases, "aer_errors_announced", "never received")

    def test_failed_recovery_fails(self):
        failed = AER_REPORT[:3] + [AER_REPORT[3].replace("successful",
                                                          "failed")]
        cases, _ = self.erring([EXPECT_AER], failed)
        self.assertFails(cases, "kernel_log_clean", "recovery failed")

    def test_error_of_another_port_fails(self):
        other = [line.replace("00:04.0", "00:05.0") for line in AER_REPORT]
        cases, _ = self.erring([EXPECT_AER], other)
        self.assertFails(cases, "kernel_log_clean", "00:05.0")
        self.assertFails(cases, "aer_errors_announced", "00:04.0")

    def test_driver_below_the_port_is_not_excused(self):
        vote = ("[  20.2] sgdma 0000:01:00.0: AER: can't recover (no"
                " error_detected callback)")
        cases, _ = self.erring([EXPECT_AER], AER_REPORT + [vote])
        self.assertFails(cases, "kernel_log_clean", "can't recover")


class Retry(FakeBoots):
    """Only the TCG int3 before init is booted again, once, and counted."""

    def crash(self, *lines):
        return {"console": "\n".join(lines) + "\n", "results": ""}

    def test_int3_before_init_is_booted_again_once(self):
        cases, boot = self.boot(self.crash(*INT3_REPORT), CLEAN)
        self.assertAllOk(cases)
        self.assertIn("Oops: int3", boot.retried)
        self.assertEqual(self.left, [])
        with open(os.path.join(self.logdir, "console.early-crash.log")) as f:
            self.assertIn("Oops", f.read())
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            harness.report([boot.suite], [boot])
        self.assertIn("1 boots retried", out.getvalue())
        self.assertEqual(boot.suite.properties["retried"], 1)

    def test_6_1_int3_is_the_same_signature(self):
        report = [INT3_REPORT[0].replace("Oops: int3", "int3")]
        _, boot = self.boot(self.crash(*report), CLEAN)
        self.assertIsNotNone(boot.retried)

    def test_second_crash_before_init_fails(self):
        crash = self.crash(*INT3_REPORT)
        cases, boot = self.boot(crash, crash, CLEAN)
        self.assertFails(cases, "kernel_log_clean")
        self.assertFails(cases, "boot_complete")
        self.assertEqual(len(self.left), 1, "booted more than twice")

    def test_crash_mentioning_ours_is_not_retried(self):
        for line in ("[    1.1] sgdma 0000:00:03.0: enabling device",
                     "[    1.1]  dma_direct_map_page+0x10/0x100",
                     "[    1.1]  intel_iommu_probe_device+0x10/0x100",
                     "[    1.1] pci 0000:00:03.0: [1234:5347] type 00"):
            with self.subTest(line=line):
                cases, boot = self.boot(self.crash(*INT3_REPORT, line), CLEAN)
                self.assertIsNone(boot.retried)
                self.assertFails(cases, "kernel_log_clean")
                self.assertEqual(len(self.left), 1)

    def test_other_crash_before_init_is_not_retried(self):
        gpf = "[    1.0] general protection fault, probably for non-canonical"
        for first in (gpf, "[    1.0] BUG: kernel NULL pointer dereference"):
            with self.subTest(first=first):
                cases, boot = self.boot(self.crash(first, *INT3_REPORT),
                                        CLEAN)
                self.assertIsNone(boot.retried)
                self.assertFails(cases, "kernel_log_clean")

    def test_crash_after_init_is_not_retried(self):
        cases, boot = self.boot(
            {"console": OOPS_INT3 + "\n",
             "results": harness.INIT_MARKER + "\n"}, CLEAN)
        self.assertFails(cases, "kernel_log_clean")
        self.assertIsNone(boot.retried)
        self.assertEqual(len(self.left), 1)

    def after_init(self, code):
        """A crash after init; @code: the bytes up to RIP's, None: no dump."""
        report = [OOPS_INT3, "[   39.5] RIP: 0010:__schedule+0x339/0xbf0",
                  "[   39.5] Modules linked in: sgdma(OE)",
                  "[   39.5] Kernel panic - not syncing: Fatal exception"]
        if code:
            report.insert(2, "[   39.5] Code: 00 00 0f 95 c2 e9 70 03 00 00"
                          " %s 44 00 00" % code)
        return {"console": "\n".join(report) + "\n",
                "results": harness.INIT_MARKER + "\n"}

    def test_stale_int3_after_init_is_booted_again_once(self):
        cases, boot = self.boot(self.after_init("0f <1f>"), CLEAN)
        self.assertAllOk(cases)
        self.assertIn("Oops: int3", boot.retried)
        self.assertEqual(self.left, [])

    def test_int3_in_memory_after_init_is_not_retried(self):
        for code in ("cc <1f>", None):
            with self.subTest(code=code):
                cases, boot = self.boot(self.after_init(code), CLEAN)
                self.assertIsNone(boot.retried)
                self.assertFails(cases, "kernel_log_clean")
                self.assertEqual(len(self.left), 1)

    def test_stale_int3_in_our_code_after_init_is_not_retried(self):
        crash = self.after_init("0f <1f>")
        crash["console"] += "[   39.5]  sgdma_chan_run+0x10/0x200 [sgdma]\n"
        cases, boot = self.boot(crash, CLEAN)
        self.assertIsNone(boot.retried)
        self.assertFails(cases, "kernel_log_clean")

    def test_boot_without_output_is_not_retried(self):
        cases, _ = self.boot(self.crash(""), CLEAN)
        self.assertFails(cases, "boot_complete")
        self.assertEqual(len(self.left), 1)


NOTICE = ["[  30.000000] FAULT_INJECTION: forcing a failure.",
          "[  30.000001] name fail_page_alloc, interval 1, probability 0,"
          " space 0, times 1"]
ALLOC_DUMP = [
    "[  30.000002] sgdma_failinjec: page allocation failure: order:0,"
    " mode:0xcc0(GFP_KERNEL), nodemask=(null)",
    "[  30.000003] CPU: 0 PID: 93 Comm: sgdma_failinjec Not tainted 6.1.0 #1",
    "[  30.000004] Hardware name: QEMU Standard PC (Q35 + ICH9, 2009)",
    "[  30.000005] Call Trace:",
    "[  30.000006]  <TASK>",
    "[  30.000007]  dump_stack_lvl+0x45/0x5e",
    "[  30.000008]  warn_alloc+0x118/0x190",
    "[  30.000009]  sgdma_pin_user+0x80/0x200 [sgdma]",
    "[  30.000010]  </TASK>",
]


class AllocationFailures(FakeBoots):
    """An injected allocation failure excuses its own dump, nothing else."""

    def logged(self, kmsg):
        return self.boot(results(clean_programs(), kmsg=kmsg))

    def test_injected_dump_is_excused(self):
        cases, _ = self.logged(NOTICE + ALLOC_DUMP)
        self.assertAllOk(cases)

    def test_dump_without_injection_fails(self):
        cases, _ = self.logged(ALLOC_DUMP)
        self.assertFails(cases, "kernel_log_clean", "Call Trace")

    def test_problems_inside_the_dump_fail(self):
        for bad in ("[  30.000006] BUG: KASAN: slab-out-of-bounds in x+0x1",
                    "[  30.000006] UBSAN: array-index-out-of-bounds in x.c:1",
                    "[  30.000006] WARNING: CPU: 0 PID: 93 at x.c:1 y+0x1/0x2",
                    "[  30.000006] kernel BUG at mm/slub.c:400!"):
            with self.subTest(bad=bad):
                dump = ALLOC_DUMP[:5] + [bad] + ALLOC_DUMP[5:]
                cases, _ = self.logged(NOTICE + dump)
                self.assertFails(cases, "kernel_log_clean", bad[15:30])

    def test_dump_without_its_end_excuses_nothing(self):
        cases, _ = self.logged(NOTICE + ALLOC_DUMP[:-1])
        self.assertFails(cases, "kernel_log_clean", "Call Trace")

    def test_excusal_ends_at_the_end_of_the_dump(self):
        after = ["[  30.1] Call Trace:", "[  30.1]  <TASK>",
                 "[  30.1]  foo+0x1/0x2", "[  30.1]  </TASK>"]
        cases, _ = self.logged(NOTICE + ALLOC_DUMP + after)
        self.assertFails(cases, "kernel_log_clean", "30.1] Call Trace")

    def test_excusal_is_bounded(self):
        frames = ["[  30.000009]  f%d+0x1/0x2" % i for i in range(100)]
        cases, _ = self.logged(NOTICE + ALLOC_DUMP[:-1] + frames +
                               ALLOC_DUMP[-1:])
        self.assertFails(cases, "kernel_log_clean", "Call Trace")


class Totals(FakeBoots):
    """Pins balance after every program, by counters that were read."""

    def test_leaked_pins_fail(self):
        leaky = CLEAN.replace(TOTALS % "prog_a", (TOTALS % "prog_a").replace(
            "released=20", "released=18"))
        cases, _ = self.boot(leaky)
        self.assertFails(cases, "prog_a/nothing_leaked", "2 pages")

    def test_pins_the_driver_leaked_on_purpose_pass(self):
        # A channel that would not stop: the driver keeps its pages
        # pinned for good and counts them; exactly those may stay.
        leaked = (TOTALS % "prog_a").replace("released=20", "released=18")
        counted = CLEAN.replace(TOTALS % "prog_a", leaked.replace(
            "leaked=0", "leaked=2")).replace(
            TOTALS % "prog_b", (TOTALS % "prog_b").replace(
                "released=20", "released=18").replace("leaked=0", "leaked=2"))
        cases, _ = self.boot(counted)
        self.assertAllOk(cases)
        more = counted.replace("leaked=2", "leaked=1")
        cases, _ = self.boot(more)
        self.assertFails(cases, "prog_a/nothing_leaked",
                         "2 pages still pinned, 1 of them leaked")

    def test_missing_counter_fails(self):
        for key in ("foll_pin_released", "driver_pages_pinned",
                    "driver_pages_leaked", "kernel_problems"):
            with self.subTest(key=key):
                broken = CLEAN.replace(
                    TOTALS % "prog_b", re.sub(key + r"=\d+", key + "=-1",
                                              TOTALS % "prog_b"))
                cases, _ = self.boot(broken)
                self.assertFails(cases, "prog_b/nothing_leaked", key)

    def test_missing_counter_at_start_fails(self):
        broken = CLEAN.replace(TOTALS % "start", (TOTALS % "start").replace(
            "acquired=20", "acquired=-1"))
        cases, _ = self.boot(broken)
        self.assertFails(cases, "prog_a/nothing_leaked", "at start")

    def test_missing_totals_line_fails(self):
        cases, _ = self.boot(CLEAN.replace(TOTALS % "prog_b" + "\n", ""))
        self.assertFails(cases, "prog_b/nothing_leaked", "no totals")


class JUnit(FakeBoots):
    """The JUnit file parses and carries every verdict."""

    def test_junit_xml(self):
        crash = {"console": "\n".join(INT3_REPORT) + "\n", "results": ""}
        _, retried = self.boot(crash, CLEAN)
        _, failed = self.boot(
            {"console": "[ 1.0] console line \x01\n",
             "results": results(clean_programs(
                 ("ok one", "ok two # SKIP needs=ats: no ATS")),
                 kmsg=["[ 1.0] BUG: KASAN: use-after-free in x+0x1/0x2"])},
            cell="iommu-lazy")
        host = harness.Suite("host: thing", [harness.Case(
            "host: thing", False, "exit 1")], 1.0, "output")
        path = os.path.join(self.dir.name, "results", "junit.xml")
        harness.junit.write(path, [host, retried.suite, failed.suite])

        root = ET.parse(path).getroot()
        suites = {s.get("name"): s for s in root.iter("testsuite")}
        self.assertEqual(sorted(suites), ["6.1/iommu-lazy",
                                          "6.1/iommu-strict", "host: thing"])
        lazy = suites["6.1/iommu-lazy"]
        self.assertEqual((lazy.get("skipped"), lazy.get("failures")),
                         ("1", "1"))
        skipped = lazy.find("testcase[@name='prog_a/two']/skipped")
        self.assertIn("needs=ats", skipped.get("message"))
        failure = lazy.find("testcase[@name='kernel_log_clean']/failure")
        self.assertIn("KASAN", failure.get("message"))
        self.assertIn("console line", lazy.find("system-out").text)
        props = {p.get("name"): p.get("value")
                 for p in suites["6.1/iommu-strict"].iter("property")}
        self.assertEqual(props["retried"], "1")
        self.assertIn("int3", props["retry_reason"])
        self.assertEqual(suites["host: thing"].get("failures"), "1")


class GuestManifest(unittest.TestCase):
    """The real manifest parses, and its counts match the sources."""

    def test_counts_match_the_sources(self):
        entries = {e.name: e for e in manifest.load()}
        for path in glob.glob(os.path.join(TOP, "tests", "guest", "*.[cs]*")):
            name = os.path.splitext(os.path.basename(path))[0]
            with open(path) as f:
                text = f.read()
            m = re.search(r"ktap_plan\((\d+)\)|^PLAN=(\d+)$", text, re.M)
            if not m or name not in entries:
                continue
            with self.subTest(program=name):
                self.assertEqual(entries[name].cases, int(m.group(1) or
                                                          m.group(2)))

    def test_every_built_program_is_listed(self):
        with open(os.path.join(TOP, "tests", "guest", "meson.build")) as f:
            built = re.findall(r"^\s*'(sgdma_\w+)',", f.read(), re.M)
        names = {e.name for e in manifest.load()}
        self.assertTrue(built)
        self.assertEqual(sorted(set(built + ["sgdma_tool"]) - names), [])

    def test_every_boot_of_the_matrix_has_a_valid_list(self):
        entries = manifest.load()
        for label in ("6.1", "6.12", "debug"):
            for cell in harness.CELLS:
                names = [e.name for e in manifest.boot_entries(
                    entries, label, cell, None,
                    harness.boot_provides(label, cell))]
                self.assertEqual(names[0], "sgdma_cell")
                self.assertEqual("sgdma_hotplug" in names, label != "debug")
                params = harness.guest_params(label, cell, names)
                self.assertLess(len(" ".join(params)), 1024)


class Runner(unittest.TestCase):
    """run-tests.sh runs exactly sgdma_tests, in order (in a sandbox with
    a fake modprobe and dmesg)."""

    SANDBOX = {
        "tests/prog_a": "echo 'KTAP version 1'; echo 1..1; echo ok 1 x",
        "tests/prog_unlisted": "echo 'KTAP version 1'; echo 1..0",
        "debug-checks.sh": "check_final() { echo looked; }",
        "bin/modprobe": "exit 0",
        "bin/dmesg": "echo '[ 1.0] hello'",
    }

    def run_runner(self, tests):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        for name, body in self.SANDBOX.items():
            os.makedirs(os.path.dirname(os.path.join(d, name)),
                        exist_ok=True)
            with open(os.path.join(d, name), "w") as f:
                f.write("#!/bin/sh\n" + body + "\n")
            os.chmod(os.path.join(d, name), 0o755)
        with open(os.path.join(TOP, "tests", "guest", "run-tests.sh")) as f:
            runner = f.read().replace("cd /sgdma", "cd " + d)
        env = dict(os.environ, sgdma_tests=tests,
                   PATH=os.path.join(d, "bin") + ":" + os.environ["PATH"])
        return subprocess.run(["sh", "-c", runner], env=env, text=True,
                              capture_output=True, check=True).stdout

    def test_runs_exactly_the_list(self):
        out = self.run_runner("prog_a,prog_gone,final")
        self.assertIn("1..4\n", out)
        self.assertIn("\n    ok 1 x\nok 2 prog_a\n# totals: prog_a ", out)
        self.assertIn("\nnot ok 3 prog_gone # not in the initramfs\n", out)
        self.assertIn("\n    # looked\nok 4 final\n", out)
        self.assertNotIn("prog_unlisted", out)
        self.assertIn("# kmsg: [ 1.0] hello", out)

    def test_bails_out_without_a_list(self):
        self.assertIn("Bail out!", self.run_runner(""))


class SeriesQemu(unittest.TestCase):
    def test_series_boots_on_its_own_qemu(self):
        args = argparse.Namespace(qemu="qemu-7.2", memory=512, timeout=30,
                                  append=[],
                                  series_qemu=["6.1-qemu-10.0=qemu-10.0"])
        self.assertEqual(
            harness.series_args(args, "6.1-qemu-10.0").qemu, "qemu-10.0")
        self.assertEqual(harness.series_args(args, "6.1").qemu, "qemu-7.2")


if __name__ == "__main__":
    unittest.main()
