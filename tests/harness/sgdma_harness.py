#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Boot sgdma guests, run the qtests, and judge everything from the host.

  sgdma_harness.py test  --qemu Q --qtest T --kernel K --initrd I [--cell C]...
  sgdma_harness.py test  --qemu Q --series LABEL KERNEL INITRD LOGDIR CELLS...
  sgdma_harness.py run   --qemu Q --kernel K --initrd I
  sgdma_harness.py shell --qemu Q --kernel K --initrd I

A boot passes only if every test case it planned reported ok, the result
stream ended with the guest's "done" marker, QEMU exited by itself in time,
and neither the console nor the guest's kernel log shows a kernel problem
(oops, BUG, WARN, lockdep, KASAN/UBSAN, hung task...), whatever the tests
said, and only if the pinned-page totals the guest reports balance. Test
mode may boot several kernel series (--series), each with its own cells,
and ends with one summary: per-boot times and totals, then the line
"N passed, N failed".

While a boot runs, the guest may ask the host for things a guest cannot do
to itself, by printing a line "# sgdma-request: COMMAND ARGS" on its result
port; the harness answers through QEMU's QMP socket. COMMAND is device_del
(surprise removal of the device with that id).
"""

import argparse
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
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
    # Lazy: unmapped IOVAs are flushed in batches, not at once.
    "iommu-lazy": {"qemu": ["-device", "intel-iommu"],
                   "append": "intel_iommu=on iommu.strict=0"},
    "swiotlb": {"append": "swiotlb=force"},
    # The device at its most demanding, behind a strict IOMMU: 32-bit
    # DMA, 64 KiB segments that may not cross 64 KiB, short segment lists,
    # 64-byte segment alignment, a 4-entry ring, 1 MiB per descriptor,
    # prefetched descriptors, C2H data held until completion, link delay.
    # iommu.forcedac=1: IOVAs from the top of the DMA mask, not below 4 GiB
    # first, so a driver whose mask is wider than dma-bits gets addresses
    # the device refuses (guests have no RAM above 4 GiB to show it).
    "strict": {"qemu": ["-device", "intel-iommu"],
               "append": "intel_iommu=on iommu.strict=1 iommu.forcedac=1",
               "sgdma": ",dma-bits=32,max-seg-size=65536,seg-boundary=0xffff"
                        ",max-segments=64,seg-align=64,ring-max=4"
                        ",max-transfer=1048576,desc-prefetch=4,c2h-hold=on"
                        ",latency=20"},
    "iommu-ats": {"qemu": ["-device", "intel-iommu,device-iotlb=on"],
                  "append": "intel_iommu=on iommu.strict=1 sgdma_ats=1",
                  "sgdma": ",ats=on"},
}


# The id of the sgdma device behind a hot-pluggable PCIe root port, which
# the guest's surprise-removal test asks the host to remove.
HOTPLUG_ID = "sgdma-hp"


# The hot-pluggable device is also the slow one: 20 ms before each
# transfer's data moves, so tests can act while a transfer is in flight
# (fork with pages pinned, removal) without relying on luck.
HOTPLUG_PROPS = ",latency=20000"


# What a kernel series needs besides. The debug kernel (KASAN, kmemleak,
# lockdep... under TCG) needs more memory and time. Its lane turns on the
# guest's end-of-run checks (sgdma_debug=1: tests/guest/debug-checks.sh),
# page poisoning (a device writing to a page after it was freed shows when
# the page is next allocated), debug_pagealloc (a CPU touching a freed page
# faults at once), and marks the kmalloc caches as the ones
# failslab may fail (sgdma_failinject). It skips sgdma_hotplug: removing a
# device behind a root port makes 6.1's own pciehp report a circular
# locking dependency (pci_rescan_remove_lock, then ctrl->reset_lock in
# pciehp_unconfigure_device), which turns lockdep off for the rest of the
# run; the Debian kernels run that test.
SERIES_SETTINGS = {
    "debug": {"memory": 1024, "timeout": 1500,
              "append": ["sgdma_debug=1 page_poison=1 debug_pagealloc=on"
                         " slub_debug=A,kmalloc-*"
                         " sgdma_skip=sgdma_hotplug"]},
}


def series_args(args, label):
    """A copy of @args with the settings of kernel series @label applied."""
    out = argparse.Namespace(**vars(args))
    settings = SERIES_SETTINGS.get(label, {})
    out.memory = max(out.memory, settings.get("memory", 0))
    out.timeout = max(out.timeout, settings.get("timeout", 0))
    out.append = out.append + settings.get("append", [])
    return out


def sgdma_devices(cell):
    """Two sgdma functions on the root bus, a third behind a root port."""
    props = cell.get("sgdma", "")
    hp_props = re.sub(r",latency=\d+", "", props) + HOTPLUG_PROPS
    # Native PCIe hotplug (the guest's pciehp), as on real hardware, not
    # QEMU's ACPI hotplug that q35 defaults to.
    return ["-global", "ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off",
            "-device", "sgdma" + props, "-device", "sgdma" + props,
            "-device", "pcie-root-port,id=hp-port,chassis=1,slot=1",
            "-device", "sgdma%s,id=%s,bus=hp-port" % (hp_props, HOTPLUG_ID)]


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

INIT_MARKER = "# sgdma: init started"
DONE_MARKER = "# sgdma: done"
KMSG_PREFIX = "# kmsg: "
REQUEST_PREFIX = "# sgdma-request: "
# "# totals: PROGRAM key=value...", printed by the guest runner before the
# first program ("start") and after each one.
TOTALS_RE = re.compile(r"^# totals: (\S+)((?: \w+=-?\d+)+)\s*$")


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


def qemu_command(args, cell, mode, logdir, qmp=None):
    cmd = [args.qemu, "-M", "q35", "-m", str(args.memory), "-smp", "2",
           "-accel", "tcg,thread=multi", "-display", "none",
           "-no-reboot", "-nic", "none",
           "-kernel", args.kernel, "-initrd", args.initrd]
    if qmp:
        cmd += ["-qmp", "unix:%s,server=on,wait=off" % qmp]
    # no_timer_check: under TCG on a loaded host the IO-APIC timer check
    # can fail and panic the boot ("IO-APIC + timer doesn't work!").
    cmdline = " ".join(["console=ttyS0 loglevel=5 panic=-1 no_timer_check"
                        " sgdma_mode=" + mode,
                        cell.get("append", "")] + args.append)
    if qmp:
        # The guest's surprise-removal test asks for this device's removal.
        cmdline += " sgdma_hotplug=" + HOTPLUG_ID
    cmd += ["-append", cmdline]
    if mode not in ("run", "shell"):   # results on ttyS1, into a file
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


class Qmp:
    """A minimal QMP client: one command at a time, events ignored."""

    def __init__(self, path, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self._reply()                       # the greeting
        self.command("qmp_capabilities")

    def _reply(self):
        while True:
            while b"\n" not in self.buf:
                data = self.sock.recv(4096)
                if not data:
                    raise ConnectionError("QMP socket closed")
                self.buf += data
            line, _, self.buf = self.buf.partition(b"\n")
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    def command(self, name, **arguments):
        msg = {"execute": name}
        if arguments:
            msg["arguments"] = arguments
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        reply = self._reply()
        if "error" in reply:
            raise RuntimeError("%s: %s" % (name, reply["error"].get("desc")))
        return reply.get("return")

    def close(self):
        self.sock.close()


def handle_request(line, qmp_path, log):
    """Carry out one "# sgdma-request: ..." line of the guest."""
    words = line[len(REQUEST_PREFIX):].split()
    try:
        if len(words) == 2 and words[0] == "device_del":
            qmp = Qmp(qmp_path)
            try:
                qmp.command("device_del", id=words[1])
            finally:
                qmp.close()
        else:
            raise ValueError("unknown request")
        log.write("%.1f %s: done\n" % (time.monotonic(), line))
    except (OSError, ValueError, RuntimeError) as e:
        log.write("%.1f %s: failed: %s\n" % (time.monotonic(), line, e))
        print("# request %r failed: %s" % (line, e), flush=True)


def run_guest(cmd, logdir, qmp_path, timeout):
    """Run QEMU, answering the guest's requests as its results arrive.

    Returns the exit status, or None if it was killed.
    """
    results = os.path.join(logdir, "results.ktap")
    seen = 0
    start = time.monotonic()
    with open(os.path.join(logdir, "qemu.log"), "w") as qlog, \
            open(os.path.join(logdir, "requests.log"), "w") as rlog:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=qlog,
                                stderr=subprocess.STDOUT)
        status = None
        while time.monotonic() - start < timeout:
            try:
                status = proc.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                pass
            text = read(results)
            # Whole lines only: up to the last newline.
            lines = text[:text.rfind("\n") + 1].splitlines()
            for line in lines[seen:]:
                if line.startswith(REQUEST_PREFIX) and qmp_path:
                    handle_request(line.strip(), qmp_path, rlog)
            seen = len(lines)
            if status is not None:
                break
        if status is None:
            proc.kill()
            proc.wait()
    return status


def parse_totals(results):
    """The guest's "# totals:" lines as {program: {key: value}}, in order."""
    totals = {}
    for line in results.splitlines():
        m = TOTALS_RE.match(line)
        if m:
            totals[m.group(1)] = {k: int(v) for k, v in (
                kv.split("=") for kv in m.group(2).split())}
    return totals


def totals_cases(totals, prefix):
    """Nothing lost, nothing leaked: pins balance after every program."""
    cases = []
    base = totals.get("start")
    if base is None:
        return [Case(prefix + "totals", False,
                     "the guest reported no pin totals")], None
    held0 = base["foll_pin_acquired"] - base["foll_pin_released"]
    for prog, t in totals.items():
        if prog == "start":
            continue
        held = t["foll_pin_acquired"] - t["foll_pin_released"]
        problems = []
        if held != held0:
            problems.append("%d pages still pinned" % (held - held0))
        if t.get("driver_pages_pinned", 0):
            problems.append("driver holds %d pinned pages"
                            % t["driver_pages_pinned"])
        if t.get("kernel_problems", 0) != base.get("kernel_problems", 0):
            problems.append("%d new kernel problem lines"
                            % (t["kernel_problems"] -
                               base.get("kernel_problems", 0)))
        cases.append(Case(prefix + prog + "/nothing_leaked", not problems,
                          "; ".join(problems)))
    last = list(totals.values())[-1]
    summary = {
        "pinned": last["foll_pin_acquired"] - base["foll_pin_acquired"],
        "released": last["foll_pin_released"] - base["foll_pin_released"],
    }
    return cases, summary


@dataclass
class Boot:
    label: str
    cell: str
    seconds: float
    cases: int
    failed: int
    totals: dict
    retried: str = None     # why the first boot was retried, if it was


def crash_before_init(results, console):
    """The first kernel problem if the kernel died before our init ran.

    The guest's init writes INIT_MARKER before it loads the module, so a
    crash before the marker happened in the kernel's own boot, with neither
    the driver loaded nor the device touched beyond PCI enumeration. Seen
    in CI and in 1 of 60 boots on a loaded host: "Oops: int3" in
    sched_clock_idle_wakeup_event on a 6.12 guest, right after
    "sched_clock: Marking stable" flips a static key. One vCPU patches the
    jump through a temporary int3 while the other, under multi-threaded
    TCG, still runs a stale translation that holds the int3 after the
    patching is over, so the kernel no longer knows it.
    """
    if INIT_MARKER in results.splitlines():
        return None
    problems = kernel_problems(console.splitlines())
    return problems[0].strip() if problems else None


def keep_early_crash(logdir, where, crash):
    kept = os.path.join(logdir, "console.early-crash.log")
    os.replace(os.path.join(logdir, "console.log"), kept)
    if os.path.exists(os.path.join(logdir, "results.ktap")):
        os.unlink(os.path.join(logdir, "results.ktap"))
    print("# boot %s: the kernel crashed before init (%s); console kept in"
          " %s; booting once more" % (where, crash, kept), flush=True)


def boot_retrying(boot_once, logdir, where):
    """Boot with boot_once(), and once more if the kernel died before init.

    Returns (what the last boot_once() returned, its results, its console,
    the first crash line if there was a second boot, else None).
    """
    retried = None
    while True:
        outcome = boot_once()
        results = read(os.path.join(logdir, "results.ktap"))
        console = read(os.path.join(logdir, "console.log"))
        crash = crash_before_init(results, console)
        if not crash or retried:
            return outcome, results, console, retried
        retried = crash
        keep_early_crash(logdir, where, crash)


def boot_cell(args, name, series=None):
    """Boot one cell of the matrix in test mode; return (cases, Boot)."""
    series = series or Series("", args.kernel, args.initrd, args.logdir, [])
    logdir = os.path.join(series.logdir, name)
    os.makedirs(logdir, exist_ok=True)
    for f in ("console.log", "results.ktap", "console.early-crash.log"):
        if os.path.exists(os.path.join(logdir, f)):
            os.unlink(os.path.join(logdir, f))
    qmpdir = tempfile.mkdtemp(prefix="sgdma-qmp-")
    qmp = os.path.join(qmpdir, "qmp.sock")
    bargs = series_args(args, series.label)
    bargs.kernel, bargs.initrd = series.kernel, series.initrd
    cmd = qemu_command(bargs, CELLS[name], "test", logdir, qmp)
    with open(os.path.join(logdir, "qemu.cmd"), "w") as f:
        f.write(shlex.join(cmd) + "\n")

    where = "%s/%s" % (series.label, name) if series.label else name
    start = time.monotonic()
    try:
        status, results, console, retried = boot_retrying(
            lambda: run_guest(cmd, logdir, qmp, bargs.timeout),
            logdir, where)
    finally:
        shutil.rmtree(qmpdir, ignore_errors=True)
    elapsed = time.monotonic() - start

    prefix = where + ": "
    cases = tap_cases(results, prefix, "the guest")

    if status is None:
        exit_detail = "killed after %d s" % bargs.timeout
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
    leak_cases, totals = totals_cases(parse_totals(results), prefix)
    cases += leak_cases

    failed = [c for c in cases if not c.ok]
    print("# boot %s: %.1f s, %d cases, %d failed (logs in %s)"
          % (where, elapsed, len(cases), len(failed), logdir), flush=True)
    if failed:
        print("# --- last console lines of %s ---" % where)
        for line in console.splitlines()[-40:]:
            print("#   " + line)
    return cases, Boot(series.label, name, elapsed, len(cases), len(failed),
                       totals, retried)


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
                              timeout=args.host_timeout)
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


def run_logged(args, name, command):
    """Runs a host COMMAND within args.host_timeout, its output logged.

    The output (stdout and stderr) goes to args.logdir/NAME.log; returns
    (output, exit status), the status being "timeout" if it took too long.
    """
    try:
        proc = subprocess.run(command, shell=True, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              errors="replace", timeout=args.host_timeout)
        out, status = proc.stdout, proc.returncode
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if e.stdout else ""
        status = "timeout"
    os.makedirs(args.logdir, exist_ok=True)
    log = os.path.join(args.logdir, re.sub(r"\W+", "_", name) + ".log")
    with open(log, "w") as f:
        f.write(out)
    return out, status


def run_check(args, spec):
    """A host-side check: NAME=COMMAND, passing when COMMAND exits 0."""
    name, _, command = spec.partition("=")
    out, status = run_logged(args, name, command)
    detail = ""
    if status != 0:
        detail = "exit %s: %s" % (status, " | ".join(out.splitlines()[-5:]))
    return [Case("host: " + name, status == 0, detail)]


def run_tap_check(args, spec):
    """A host-side check that prints TAP: NAME=COMMAND, one case per test.

    Every TAP case becomes a case of its own; a missing plan, a short run
    or a non-zero exit status adds a failing case.
    """
    name, _, command = spec.partition("=")
    prefix = "host: %s: " % name
    out, status = run_logged(args, name, command)
    cases = tap_cases(out, prefix, name)
    if status != 0 and all(c.ok for c in cases):
        tail = " | ".join(out.splitlines()[-3:])
        cases.append(Case(prefix + "exit_status", False,
                          "exited with %s: %s" % (status, tail)))
    return cases


@dataclass
class Series:
    label: str
    kernel: str
    initrd: str
    logdir: str
    cells: list


def report(cases, boots=()):
    print("TAP version 13")
    print("1..%d" % len(cases))
    for i, case in enumerate(cases, 1):
        print("%sok %d %s%s" % ("" if case.ok else "not ", i, case.name,
                                " # " + case.detail if case.detail else ""))
    if boots:
        print("# %-28s %8s %6s %6s %12s %12s" % (
            "boot", "seconds", "cases", "failed", "pages pinned",
            "released"))
        for b in boots:
            where = "%s/%s" % (b.label, b.cell) if b.label else b.cell
            t = b.totals or {}
            print("# %-28s %8.1f %6d %6d %12s %12s" % (
                where, b.seconds, b.cases, b.failed,
                t.get("pinned", "?"), t.get("released", "?")))
        print("# boots: %d, %.1f s in all" % (
            len(boots), sum(b.seconds for b in boots)))
        for b in boots:
            if b.retried:
                print("# retried %s: the first boot's kernel crashed before"
                      " init: %s" % ("%s/%s" % (b.label, b.cell)
                                     if b.label else b.cell, b.retried))
    failed = sum(not c.ok for c in cases)
    print("%d passed, %d failed" % (len(cases) - failed, failed))
    return 1 if failed else 0


def parse_series(args):
    """--series LABEL KERNEL INITRD LOGDIR CELLS, or the single-kernel form."""
    series = []
    for label, kernel, initrd, logdir, cells in args.series:
        names = list(CELLS) if cells == "all" else cells.replace(
            ",", " ").split()
        series.append(Series(label, kernel, initrd, logdir, names))
    if not series:
        if not (args.kernel and args.initrd):
            sys.exit("test: --kernel and --initrd, or --series, needed")
        series.append(Series("", args.kernel, args.initrd, args.logdir,
                             args.cell or list(CELLS)))
    for s in series:
        for c in s.cells:
            if c not in CELLS:
                sys.exit("unknown cell %r (known: %s)"
                         % (c, ", ".join(CELLS)))
    return series


def cmd_test(args):
    series = parse_series(args)
    cases, boots = [], []
    for spec in args.check:
        cases += run_check(args, spec)
    for spec in args.tap_check:
        cases += run_tap_check(args, spec)
    for spec in args.qtest:
        cases += run_qtests(args, spec)
    for s in series:
        for c in s.cells:
            boot_cases, boot = boot_cell(args, c, s)
            cases += boot_cases
            boots.append(boot)
    return report(cases, boots)


def cmd_interactive(args, mode):
    args = series_args(args, args.series_label)
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
    p.add_argument("--kernel")
    p.add_argument("--initrd")
    p.add_argument("--series", action="append", default=[], nargs=5,
                   metavar=("LABEL", "KERNEL", "INITRD", "LOGDIR", "CELLS"),
                   help="test mode: boot CELLS (space- or comma-separated, "
                   "or 'all') of this kernel (repeatable)")
    p.add_argument("--check", action="append", default=[],
                   metavar="NAME=COMMAND",
                   help="host check that passes when COMMAND exits 0")
    p.add_argument("--tap-check", action="append", default=[],
                   metavar="NAME=COMMAND",
                   help="host check whose TAP output counts case by case")
    p.add_argument("--cell", action="append",
                   help="boot only this cell (repeatable): %s"
                   % ", ".join(CELLS))
    p.add_argument("--append", action="append", default=[],
                   help="extra kernel command line")
    p.add_argument("--qemu-arg", action="append", default=[],
                   help="extra QEMU argument (repeatable)")
    p.add_argument("--memory", type=int, default=512, help="guest MiB")
    p.add_argument("--series-label", default="",
                   help="run/shell: the kernel series, for its settings")
    p.add_argument("--host-timeout", type=int, default=1200,
                   help="hard limit per qtest run or host check, seconds "
                   "(the ASan qtests take minutes on a loaded machine)")
    p.add_argument("--timeout", type=int, default=300,
                   help="hard limit per boot, seconds")
    p.add_argument("--logdir", default="build/logs")
    args = p.parse_args()
    if args.mode != "test" and not (args.kernel and args.initrd):
        p.error("--kernel and --initrd are required")
    if args.mode == "test":
        return cmd_test(args)
    return cmd_interactive(args, args.mode)


if __name__ == "__main__":
    sys.exit(main())
