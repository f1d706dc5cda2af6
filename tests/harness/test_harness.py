#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Tests of the harness' own judgement, against a fake QEMU.

The fake QEMU writes the two serial files the harness gives it (console,
results) from scripted boots, so each test sets up exactly what a guest
would have printed: a clean run, an early kernel crash, a crash in the
middle of the tests.

Run: python3 -m unittest discover -s tests/harness -p 'test_*.py'
"""

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgdma_harness as harness  # noqa: E402

OOPS = "[    1.096054] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI"

CLEAN_RESULTS = textwrap.dedent("""\
    # sgdma: init started
    KTAP version 1
    1..1
    # totals: start foll_pin_acquired=10 foll_pin_released=10 \
driver_pages_pinned=0 kernel_problems=0
        KTAP version 1
        1..1
        ok 1 transfer
    ok 1 sgdma_basic
    # totals: sgdma_basic foll_pin_acquired=20 foll_pin_released=20 \
driver_pages_pinned=0 kernel_problems=0
    # sgdma: done
    """)

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


class Boots(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        qemu = os.path.join(self.dir.name, "qemu")
        with open(qemu, "w") as f:
            f.write(FAKE_QEMU)
        os.chmod(qemu, 0o755)
        self.script = os.path.join(self.dir.name, "boots.json")
        os.environ["FAKE_QEMU_SCRIPT"] = self.script
        self.args = argparse.Namespace(
            qemu=qemu, memory=512, timeout=30, append=[], qemu_arg=[],
            kernel="vmlinuz", initrd="initrd", logdir=self.dir.name)

    def boot(self, *boots):
        with open(self.script, "w") as f:
            json.dump(list(boots), f)
        with contextlib.redirect_stdout(io.StringIO()):
            cases, boot = harness.boot_cell(self.args, "no-iommu")
        with open(self.script) as f:
            self.left = json.load(f)
        return {c.name.split(": ", 1)[1]: c.ok for c in cases}, boot

    def test_clean_boot_passes_once(self):
        cases, boot = self.boot({"console": "", "results": CLEAN_RESULTS})
        self.assertTrue(all(cases.values()), cases)
        self.assertIsNone(boot.retried)

    def test_crash_before_init_is_booted_again_once(self):
        cases, boot = self.boot(
            {"console": OOPS + "\n", "results": ""},
            {"console": "", "results": CLEAN_RESULTS})
        self.assertTrue(all(cases.values()), cases)
        self.assertIn("Oops: int3", boot.retried)
        self.assertEqual(self.left, [])
        kept = os.path.join(self.dir.name, "no-iommu",
                            "console.early-crash.log")
        with open(kept) as f:
            self.assertIn("Oops", f.read())

    def test_second_crash_before_init_fails(self):
        crash = {"console": OOPS + "\n", "results": ""}
        cases, boot = self.boot(crash, crash,
                                {"console": "", "results": CLEAN_RESULTS})
        self.assertFalse(cases["kernel_log_clean"])
        self.assertFalse(cases["boot_complete"])
        self.assertEqual(len(self.left), 1, "booted more than twice")

    def test_crash_after_init_is_not_retried(self):
        started = harness.INIT_MARKER + "\n"
        cases, boot = self.boot(
            {"console": OOPS + "\n", "results": started},
            {"console": "", "results": CLEAN_RESULTS})
        self.assertFalse(cases["kernel_log_clean"])
        self.assertIsNone(boot.retried)
        self.assertEqual(len(self.left), 1)

    def test_boot_without_output_is_not_retried(self):
        cases, boot = self.boot({"console": "", "results": ""},
                                {"console": "", "results": CLEAN_RESULTS})
        self.assertFalse(cases["boot_complete"])
        self.assertEqual(len(self.left), 1)

    def test_leaked_pins_fail(self):
        leaky = CLEAN_RESULTS.replace("acquired=20 foll_pin_released=20",
                                      "acquired=20 foll_pin_released=18")
        cases, _ = self.boot({"console": "", "results": leaky})
        self.assertFalse(cases["sgdma_basic/nothing_leaked"])


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
