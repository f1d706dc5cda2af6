#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Boot sgdma guests, run the qtests, and judge everything from the host.

  sgdma_harness.py test  --qemu Q --qtest T --kernel K --initrd I [--cell C]...
  sgdma_harness.py run   --qemu Q --kernel K --initrd I
  sgdma_harness.py shell --qemu Q --kernel K --initrd I

A boot passes only if every test case it planned reported ok, the result
stream ended with the guest's "done" marker, QEMU exited by itself in time,
and neither the console nor the guest's kernel log shows a kernel problem
(oops, BUG, WARN, lockdep, KASAN/UBSAN, hung task...), whatever the tests
said. Test mode ends with the line "N passed, N failed".
"""

import argparse
import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field

# Cells of the boot matrix: extra QEMU arguments, kernel command line, and
# properties for the sgdma devices. Two sgdma functions in every cell prove
# one node per device. Kernel parameters the kernel does not know (such as
# sgdma_ats=1) reach the guest tests as environment variables.
CELLS = {
    "no-iommu": {},
    "iommu-strict": {"qemu": ["-device", "intel-iommu"],
                     "append": "intel_iommu=on iommu.strict=1"},
    "swiotlb": {"append": "swiotlb=force"},
    # The device at its most demanding, behind a strict IOMMU: 32-bit
    # DMA, 64 KiB segments that may not cross 64 KiB, short segment lists,
    # 64-byte segment alignment, a 4-entry ring, 1 MiB per descriptor,
    # prefetched descriptors, C2H data held until completion, link delay.
    "strict": {"qemu": ["-device", "intel-iommu"],
               "append": "intel_iommu=on iommu.strict=1",
               "sgdma": ",dma-bits=32,max-seg-size=65536,seg-boundary=0xffff"
                        ",max-segments=64,seg-align=64,ring-max=4"
                        ",max-transfer=1048576,desc-prefetch=4,c2h-hold=on"
                        ",latency=20"},
    "iommu-ats": {"qemu": ["-device", "intel-iommu,device-iotlb=on"],
                  "append": "intel_iommu=on iommu.strict=1 sgdma_ats=1",
                  "sgdma": ",ats=on"},
}


def sgdma_devices(cell):
    props = cell.get("sgdma", "")
    return ["-device", "sgdma" + props, "-device", "sgdma" + props]


# What the kernel prints when something is wrong. Besides the generic
# oops/BUG/WARN family this covers the debug kernel's detectors: KASAN
# ("BUG: KASAN: ..."), UBSAN ("UBSAN: ..."), lockdep ("WARNING: possible
# circular locking dependency", "BUG: MAX_LOCKDEP_... too low!"),
# DEBUG_ATOMIC_SLEEP ("BUG: sleeping function called from invalid
# context"), DMA-API debugging (every error is a WARN with "DMA-API:"; its
# own informational lines are not problems), kmemleak (reports, and
# turning itself off), SLUB's checks ("BUG kmalloc-64 (...): ...") and
# page poisoning ("pagealloc: memory corruption").
KERNEL_PROBLEMS = re.compile(
    r"(\bOops\b|\bBUG:|kernel BUG at|WARNING:|-+\[ cut here \]-+|Kernel panic"
    r"|blocked for more than \d+ seconds|possible (circular|recursive) locking"
    r"|inconsistent lock state|UBSAN:|KASAN|new suspected memory leak"
    r"|DMA-API: (?!preallocated \d+ debug entries|debugging enabled by kernel"
    r" config|dma_debug_entry pool grown)"
    r"|general protection fault|Call Trace:|soft lockup|hard LOCKUP"
    r"|rcu_\w+ (self-)?detected stall|sleeping function called from invalid"
    r"|unreferenced object|refcount_t:|kmemleak: (Cannot|Memory pool empty)"
    r"|Kernel memory leak detector disabled|\bBUG [\w.:-]+ \(|pagealloc: "
    r"(memory corruption|single bit error))")

DONE_MARKER = "# sgdma: done"
KMSG_PREFIX = "# kmsg: "


@dataclass
class Case:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class Node:
    name: str
    ok: bool
    skip: bool
    directive: str
    children: list = field(default_factory=list)
    plan: int = None


RESULT_RE = re.compile(r"^(not )?ok (\d+)\s*-?\s*([^#]*?)\s*(#\s*(.*))?$")
PLAN_RE = re.compile(r"^1\.\.(\d+)")


def parse_ktap(text):
    """Parse (K)TAP with subtests nested by 4-space indentation.

    Returns (top-level nodes, top-level plan, list of format errors).
    """
    pending = {}    # indent -> results seen at that depth, not yet claimed
    plans = {}      # indent -> plan seen at that depth
    errors = []
    for raw in text.splitlines():
        line = raw.rstrip("\r\n")
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        m = PLAN_RE.match(stripped)
        if m:
            plans[indent] = int(m.group(1))
            continue
        m = RESULT_RE.match(stripped)
        if not m:
            continue
        directive = (m.group(5) or "").strip()
        node = Node(name=m.group(3).strip() or "test %s" % m.group(2),
                    ok=m.group(1) is None,
                    skip=directive.upper().startswith("SKIP"),
                    directive=directive,
                    children=pending.pop(indent + 4, []),
                    plan=plans.pop(indent + 4, None))
        pending.setdefault(indent, []).append(node)
    for indent, nodes in pending.items():
        if indent:
            errors.append("%d results at depth %d belong to no test"
                          % (len(nodes), indent // 4))
    return pending.get(0, []), plans.get(0), errors


def leaf_cases(nodes, prefix):
    """Flatten parsed nodes into test cases, one per leaf.

    A parent that failed while all its children passed (a crash after the
    last case, a bad exit status) or whose children fell short of its plan
    adds a failing case of its own.
    """
    cases = []
    for node in nodes:
        name = prefix + node.name
        if not node.children:
            cases.append(Case(name, node.ok, node.directive))
            continue
        cases.extend(leaf_cases(node.children, name + "/"))
        if node.plan is not None and node.plan != len(node.children):
            cases.append(Case(name, False, "planned %d cases, reported %d"
                              % (node.plan, len(node.children))))
        elif not node.ok and all(c.ok for c in node.children):
            cases.append(Case(name, False, node.directive))
    return cases


def tap_cases(text, prefix, what):
    """Cases from a whole TAP/KTAP document, with missing ones as failures."""
    nodes, plan, errors = parse_ktap(text)
    cases = leaf_cases(nodes, prefix)
    if plan is None:
        cases.append(Case(prefix + "plan", False, "%s printed no plan" % what))
    elif plan != len(nodes):
        cases.append(Case(prefix + "plan", False, "%s planned %d, reported %d"
                          % (what, plan, len(nodes))))
    for err in errors:
        cases.append(Case(prefix + "format", False, err))
    return cases


# The kernel's report of a failed allocation ("page allocation failure",
# "vmalloc error") with its stack dump is not a bug when the failure was
# injected on purpose (sgdma_failinject): fault injection logs each one
# ("FAULT_INJECTION: forcing a failure." and its attributes) right before.
ALLOC_FAILURE = re.compile(r"(page allocation failure: order:\d+|vmalloc error: size \d+)")
INJECTED = "FAULT_INJECTION: forcing a failure."
TASK_END = "</TASK>"


def injected_alloc_reports(lines):
    """Lines of allocation-failure reports explained by injected failures.

    Only the guest's full kernel log has the fault-injection notices (the
    console shows warnings only), so this is computed on it, and the same
    lines are excused on the console too.
    """
    excused = set()
    in_report = False
    for i, line in enumerate(lines):
        if ALLOC_FAILURE.search(line):
            in_report = any(INJECTED in prev for prev in lines[max(0, i - 4):i])
        if in_report:
            excused.add(line)
            if TASK_END in line:
                in_report = False
    return excused


def kernel_problems(lines, excused=frozenset()):
    return [line for line in lines
            if KERNEL_PROBLEMS.search(line) and line not in excused]


def qemu_command(args, cell, mode, logdir):
    cmd = [args.qemu, "-M", "q35", "-m", str(args.memory), "-smp", "2",
           "-accel", "tcg,thread=multi", "-display", "none",
           "-no-reboot", "-nic", "none",
           "-kernel", args.kernel, "-initrd", args.initrd]
    cmdline = " ".join(["console=ttyS0 loglevel=5 panic=-1 sgdma_mode=" + mode,
                        cell.get("append", "")] + args.append)
    cmd += ["-append", cmdline]
    if mode == "test":
        cmd += ["-monitor", "none",
                "-serial", "file:" + os.path.join(logdir, "console.log"),
                "-serial", "file:" + os.path.join(logdir, "results.ktap")]
    elif mode == "run":
        cmd += ["-monitor", "none", "-serial", "stdio", "-serial", "null"]
    else:
        cmd += ["-serial", "mon:stdio", "-serial", "null"]
    cmd += cell.get("qemu", []) + sgdma_devices(cell) + args.qemu_arg
    return cmd


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def boot_cell(args, name):
    """Boot one cell of the matrix in test mode; return its cases."""
    logdir = os.path.join(args.logdir, name)
    os.makedirs(logdir, exist_ok=True)
    for f in ("console.log", "results.ktap"):
        if os.path.exists(os.path.join(logdir, f)):
            os.unlink(os.path.join(logdir, f))
    cmd = qemu_command(args, CELLS[name], "test", logdir)
    with open(os.path.join(logdir, "qemu.cmd"), "w") as f:
        f.write(shlex.join(cmd) + "\n")

    start = time.monotonic()
    with open(os.path.join(logdir, "qemu.log"), "w") as qlog:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=qlog,
                                stderr=subprocess.STDOUT)
        try:
            status = proc.wait(timeout=args.timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            proc.kill()
            status = proc.wait()
            timed_out = True
    elapsed = time.monotonic() - start

    results = read(os.path.join(logdir, "results.ktap"))
    console = read(os.path.join(logdir, "console.log"))
    prefix = name + ": "
    cases = tap_cases(results, prefix, "the guest")

    if timed_out:
        exit_detail = "killed after %d s" % args.timeout
    elif status:
        exit_detail = "QEMU exited with status %d" % status
    else:
        exit_detail = ""
    complete = DONE_MARKER in results.splitlines() and not exit_detail
    cases.append(Case(prefix + "boot_complete", complete, exit_detail or (
        "" if complete else "result stream ended without the done marker")))

    kmsg = [line[len(KMSG_PREFIX):] for line in results.splitlines()
            if line.startswith(KMSG_PREFIX)]
    excused = injected_alloc_reports(kmsg)
    problems = (kernel_problems(console.splitlines(), excused) +
                kernel_problems(kmsg, excused))
    cases.append(Case(prefix + "kernel_log_clean", not problems,
                      "; ".join(dict.fromkeys(problems))[:2000]))

    failed = [c for c in cases if not c.ok]
    print("# boot %s: %.1f s, %d cases, %d failed (logs in %s)"
          % (name, elapsed, len(cases), len(failed), logdir), flush=True)
    if failed:
        print("# --- last console lines of %s ---" % name)
        for line in console.splitlines()[-40:]:
            print("#   " + line)
    return cases


# Sanitizer reports end the QEMU process, so the qtest that drives it fails.
SANITIZER_ENV = {
    "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1",
    "UBSAN_OPTIONS": "halt_on_error=1:abort_on_error=1:print_stacktrace=1",
}


def run_qtests(args, spec):
    """One qtest binary against one QEMU: LABEL=QEMU_BINARY,QTEST_BINARY."""
    label, _, paths = spec.partition("=")
    qemu, _, qtest = paths.partition(",")
    env = dict(os.environ, QTEST_QEMU_BINARY=qemu, **SANITIZER_ENV)
    start = time.monotonic()
    try:
        proc = subprocess.run([qtest, "--tap", "-k"], env=env,
                              stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, errors="replace",
                              timeout=args.timeout)
        out, status = proc.stdout, proc.returncode
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if e.stdout else ""
        status = "timeout"
    os.makedirs(args.logdir, exist_ok=True)
    with open(os.path.join(args.logdir, "qtest-%s.log" % label), "w") as f:
        f.write(out)
    prefix = "qtest-%s: " % label
    cases = tap_cases(out, prefix, "the qtest")
    if status != 0:
        tail = " | ".join(out.splitlines()[-3:])
        cases.append(Case(prefix + "exit_status", False,
                          "exited with %s: %s" % (status, tail)))
    print("# qtest %s: %.1f s, %d cases"
          % (label, time.monotonic() - start, len(cases)), flush=True)
    return cases


def run_check(args, spec):
    """A host-side check: NAME=COMMAND, passing when COMMAND exits 0."""
    name, _, command = spec.partition("=")
    proc = subprocess.run(command, shell=True, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, errors="replace", timeout=args.timeout)
    os.makedirs(args.logdir, exist_ok=True)
    log = os.path.join(args.logdir, re.sub(r"\W+", "_", name) + ".log")
    with open(log, "w") as f:
        f.write(proc.stdout)
    detail = ""
    if proc.returncode:
        detail = "exit %d: %s" % (proc.returncode,
                                  " | ".join(proc.stdout.splitlines()[-5:]))
    return [Case("host: " + name, proc.returncode == 0, detail)]


def report(cases):
    print("TAP version 13")
    print("1..%d" % len(cases))
    for i, case in enumerate(cases, 1):
        print("%sok %d %s%s" % ("" if case.ok else "not ", i, case.name,
                                " # " + case.detail if case.detail else ""))
    failed = sum(not c.ok for c in cases)
    print("%d passed, %d failed" % (len(cases) - failed, failed))
    return 1 if failed else 0


def cmd_test(args):
    cells = args.cell or list(CELLS)
    for c in cells:
        if c not in CELLS:
            sys.exit("unknown cell %r (known: %s)" % (c, ", ".join(CELLS)))
    cases = []
    for spec in args.check:
        cases += run_check(args, spec)
    for spec in args.qtest:
        cases += run_qtests(args, spec)
    for c in cells:
        cases += boot_cell(args, c)
    return report(cases)


def cmd_interactive(args, mode):
    cell = CELLS[args.cell[0] if args.cell else "no-iommu"]
    cmd = qemu_command(args, cell, mode, args.logdir)
    print("# " + shlex.join(cmd), flush=True)
    if mode == "shell":
        return subprocess.call(cmd)
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, errors="replace")
    lines = []
    deadline = time.monotonic() + args.timeout
    for line in proc.stdout:
        sys.stdout.write(line)
        lines.append(line)
        if time.monotonic() > deadline:
            proc.kill()
            print("# timed out after %d s" % args.timeout)
            return 1
    status = proc.wait()
    problems = kernel_problems(lines)
    if problems:
        print("# kernel problems on the console:\n#   " +
              "\n#   ".join(problems))
    ok = status == 0 and not problems and any(
        "round trip OK" in line for line in lines)
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["test", "run", "shell"])
    p.add_argument("--qemu", required=True)
    p.add_argument("--qtest", action="append", default=[],
                   metavar="LABEL=QEMU,QTEST",
                   help="run qtest binary QTEST against QEMU (repeatable)")
    p.add_argument("--kernel", required=True)
    p.add_argument("--initrd", required=True)
    p.add_argument("--check", action="append", default=[],
                   metavar="NAME=COMMAND",
                   help="host check that passes when COMMAND exits 0")
    p.add_argument("--cell", action="append",
                   help="boot only this cell (repeatable): %s"
                   % ", ".join(CELLS))
    p.add_argument("--append", action="append", default=[],
                   help="extra kernel command line")
    p.add_argument("--qemu-arg", action="append", default=[],
                   help="extra QEMU argument (repeatable)")
    p.add_argument("--memory", type=int, default=512, help="guest MiB")
    p.add_argument("--timeout", type=int, default=300,
                   help="hard limit per boot or qtest run, seconds")
    p.add_argument("--logdir", default="build/logs")
    args = p.parse_args()
    if args.mode == "test":
        return cmd_test(args)
    return cmd_interactive(args, args.mode)


if __name__ == "__main__":
    sys.exit(main())
