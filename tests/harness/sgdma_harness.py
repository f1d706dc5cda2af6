#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Boot sgdma guests, run the qtests, and judge everything from the host.

  sgdma_harness.py test  --qemu Q --qtest T --kernel K --initrd I [--cell C]...
  sgdma_harness.py test  --qemu Q --series LABEL KERNEL INITRD LOGDIR CELLS...
  sgdma_harness.py run   --qemu Q --kernel K --initrd I
  sgdma_harness.py shell --qemu Q --kernel K --initrd I

A boot runs the programs tests/guest/manifest lists for it and passes only
if each reported exactly the cases the manifest expects and every one was
ok or a justified skip, the result stream ended with the guest's "done"
marker, QEMU exited by itself in time, neither the console nor the guest's
kernel log shows a kernel problem (judge.py, kernel_log.py) beyond the IOMMU
faults its tests announced, and the pinned-page totals the guest reports
balance. Test mode may boot several kernel series (--series), each with its
own cells, and ends with one summary: per-boot counts, times and totals,
the boots retried, then the line "N passed, N failed, N skipped"; the same
results go to a JUnit XML file (--junit).

While a boot runs, the guest may ask the host for things a guest cannot do
to itself, by printing a line "# sgdma-request: COMMAND ARGS" on its result
port; the harness answers through QEMU's QMP socket. COMMAND is device_del
ID (surprise removal of the device with that id) or aer_inject ID ERROR
(HMP's pcie_aer_inject_error: the PCIe device with that id, a root port,
reports ERROR, an uncorrectable error by name, to the guest's AER).
"""

import argparse
import contextlib
import io
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import judge  # noqa: E402
import junit  # noqa: E402
import kconfig  # noqa: E402
import manifest  # noqa: E402
import shard  # noqa: E402
# Re-exported: tests/bench/sgdma_bench.py boots and judges through these.
from judge import (DONE_MARKER, INIT_MARKER, KMSG_PREFIX,  # noqa: E402,F401
                   RUNNING_PREFIX)
from kernel_log import kernel_problems  # noqa: E402
from ktap import FEATURES, Case, tap_cases  # noqa: E402

# Cells of the boot matrix: extra QEMU arguments, kernel command line,
# properties for the sgdma devices, and the features the cell provides
# (ktap.FEATURES): a test may skip only for a feature its boot lacks, and
# the guest's sgdma_cell proves each claim before the tests run.
CELLS = {
    "no-iommu": {"provides": []},
    # The second root function's segments are shorter than a page and may
    # not cross one, so the debug lane (this cell) checks the driver's
    # scatterlists against such limits with DMA-API debugging.
    "iommu-strict": {"qemu": ["-device", "intel-iommu"],
                     "append": "intel_iommu=on iommu.strict=1",
                     "functions": ["", ",max-seg-size=1536,seg-boundary=0xfff"],
                     "provides": ["iommu", "iommu-strict"]},
    # Lazy: unmapped IOVAs are flushed in batches, not at once.
    "iommu-lazy": {"qemu": ["-device", "intel-iommu"],
                   "append": "intel_iommu=on iommu.strict=0",
                   "provides": ["iommu", "iommu-lazy"]},
    "swiotlb": {"append": "swiotlb=force", "provides": ["bounce"]},
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
                        ",latency=20,ownership-check=on",
               "provides": ["iommu", "iommu-strict", "strict-device"]},
    "iommu-ats": {"qemu": ["-device", "intel-iommu,device-iotlb=on"],
                  "append": "intel_iommu=on iommu.strict=1 sgdma_ats=1",
                  "sgdma": ",ats=on",
                  "provides": ["iommu", "iommu-strict", "ats"]},
    # RAM beyond the reach of 32- and 33-bit DMA, no IOMMU: a driver whose
    # DMA mask is wider than its device hands it addresses it cannot
    # issue. 10 GiB on q35: 2 GiB below 4 GiB, 8 GiB from 4 to 12 GiB
    # (TCG allocates it as the guest touches it). The kernel hands out
    # pages mostly from the bottom of a zone up, so memmap= reserves
    # 4-8 GiB: every page above 4 GiB then lies above 8 GiB, beyond both
    # widths, at no cost to the host. (RAM here cannot reach past a
    # width such as 40.) Each root function has its own width; the
    # hot-plug one keeps 64 bits.
    "dma-mask": {"memory": 10240,
                 "append": "memmap=4G$0x100000000",
                 "functions": [",dma-bits=32", ",dma-bits=33"],
                 "provides": ["high-memory"]},
}

# Every boot has a function behind a hot-pluggable root port.
EVERY_BOOT_PROVIDES = ["hotplug"]


# The id of the sgdma device behind a hot-pluggable PCIe root port, which
# the guest's surprise-removal test asks the host to remove.
HOTPLUG_ID = "sgdma-hp"
# The root port it sits behind, where the guest's AER test asks the host
# to inject errors.
HOTPLUG_PORT_ID = "hp-port"


# The hot-pluggable device is also the slow one: 20 ms before each
# transfer's data moves, so tests can act while a transfer is in flight
# (fork with pages pinned, removal) without relying on luck.
HOTPLUG_PROPS = ",latency=20000"


# What a kernel series needs besides, and what it provides, for kernels
# without a config beside their image; others get theirs from it
# (kconfig.series_settings, register_kernel()). The debug
# kernel (KASAN, kmemleak, lockdep... under TCG) needs more memory and
# time. Its lane turns on page poisoning (a device writing to a page after
# it was freed shows when the page is next allocated), debug_pagealloc (a
# CPU touching a freed page faults at once), and marks the kmalloc caches
# as the ones failslab may fail (sgdma_failinject). Which programs and
# checks it runs is the manifest's business (tests/guest/manifest).
SERIES_SETTINGS = {
    "debug": {"memory": 1024, "timeout": 1500,
              "append": ["page_poison=1 debug_pagealloc=on"
                         " slub_debug=A,kmalloc-*"],
              "provides": ["fault-injection", "kernel-debug"]},
}

# x86's COMMAND_LINE_SIZE, with its terminating NUL: the kernel silently
# cuts a longer command line, and the sgdma_* parameters come last.
COMMAND_LINE_MAX = 2048 - 1


def series_args(args, label):
    """A copy of @args with the settings of kernel series @label applied."""
    out = argparse.Namespace(**vars(args))
    settings = SERIES_SETTINGS.get(label, {})
    out.memory = max(out.memory, settings.get("memory", 0))
    out.timeout = max(out.timeout, settings.get("timeout", 0))
    out.append = out.append + settings.get("append", [])
    out.series_label = label
    # --series-qemu LABEL=PATH: this series boots on another QEMU.
    for spec in getattr(args, "series_qemu", []):
        series, _, qemu = spec.partition("=")
        if series == label:
            out.qemu = qemu
    return out


def register_kernel(label, kernel):
    """Derive the settings of series @label from the config beside its
    @kernel image, if there is one; returns its options, or None."""
    path = kconfig.config_path(kernel)
    if not path:
        return None
    options = kconfig.load(path)
    SERIES_SETTINGS[label] = kconfig.series_settings(options)
    return options


def disk_args(logdir):
    """A small ext4 disk private to the boot (in its @logdir), made afresh
    for each boot: sgdma_filemap's file system with writeback."""
    image = os.path.join(logdir, "disk.img")
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-O",
                    "^metadata_csum", "-L", "sgdma", image, "16M"],
                   check=True, stdout=subprocess.DEVNULL)
    return ["-drive", "file=%s,format=raw,if=none,id=sgdma-disk" % image,
            "-device", "virtio-blk-pci,drive=sgdma-disk"]


def boot_provides(label, cell):
    """The features of a boot of kernel series @label in @cell, in
    FEATURES order."""
    have = set(CELLS[cell]["provides"] + EVERY_BOOT_PROVIDES +
               SERIES_SETTINGS.get(label, {}).get("provides", []))
    return [f for f in FEATURES if f in have]


def guest_params(label, cell, tests=None):
    """The sgdma_* kernel parameters that tell the guest what its boot is
    (init passes them to every program as environment variables), and, in
    test mode, exactly which programs to run."""
    params = ["sgdma_cell=" + cell, "sgdma_series=" + (label or "default"),
              "sgdma_provides=" + ",".join(boot_provides(label, cell))]
    props = CELLS[cell].get("sgdma", "").lstrip(",")
    if props:
        params.append("sgdma_devprops=" + props)
    # A cell whose root functions have properties of their own (they
    # replace sgdma_devprops for those two): in address order, "/" apart.
    fnprops = [p.lstrip(",") for p in CELLS[cell].get("functions", [])]
    if fnprops:
        params.append("sgdma_fnprops=" + "/".join(fnprops))
    if tests is not None:
        params.append("sgdma_tests=" + ",".join(tests))
    return params


def sgdma_devices(cell):
    """Two sgdma functions on the root bus, a third behind a root port."""
    props = cell.get("sgdma", "")
    hp_props = re.sub(r",latency=\d+", "", props) + HOTPLUG_PROPS
    # A cell may give each root function properties of its own.
    root_props = cell.get("functions", [props, props])
    # Native PCIe hotplug (the guest's pciehp), as on real hardware, not
    # QEMU's ACPI hotplug that q35 defaults to.
    return ["-global", "ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off",
            "-device", "sgdma" + root_props[0],
            "-device", "sgdma" + root_props[1],
            "-device", "pcie-root-port,id=%s,chassis=1,slot=1"
            % HOTPLUG_PORT_ID,
            "-device", "sgdma%s,id=%s,bus=%s" % (hp_props, HOTPLUG_ID,
                                                 HOTPLUG_PORT_ID)]


def kernel_command_line(args, cell, mode, params, hotplug):
    """The guest kernel's command line; ValueError if x86 would cut it."""
    # no_timer_check: under TCG on a loaded host the IO-APIC timer check
    # can fail and panic the boot ("IO-APIC + timer doesn't work!").
    # oops=panic: an oops ends the boot at once (panic=-1 and -no-reboot
    # make QEMU exit) rather than leaving its program hung, and the boot
    # waiting out its timeout; the report stays on the console for the
    # judge, and the cases not run are missing.
    words = ["console=ttyS0 loglevel=5 panic=-1 oops=panic no_timer_check"
             " sgdma_mode=" + mode, cell.get("append", "")] + args.append
    if hotplug:
        # The guest's surprise-removal test asks for this device's removal.
        words.append("sgdma_hotplug=" + HOTPLUG_ID)
        words.append("sgdma_hotplug_port=" + HOTPLUG_PORT_ID)
    cmdline = " ".join(w for w in words + list(params) if w)
    if len(cmdline) > COMMAND_LINE_MAX:
        raise ValueError("kernel command line of %d bytes, x86 takes %d: %s"
                         % (len(cmdline), COMMAND_LINE_MAX, cmdline))
    return cmdline


def qemu_command(args, cell, mode, logdir, qmp=None, params=()):
    """The QEMU command of one boot of @cell (a CELLS value); @params: the
    guest's sgdma_* kernel parameters (guest_params())."""
    memory = max(args.memory, cell.get("memory", 0))
    cmd = [args.qemu, "-M", "q35", "-m", str(memory), "-smp", "2",
           "-accel", "tcg,thread=multi", "-display", "none",
           "-no-reboot", "-nic", "none",
           "-kernel", args.kernel, "-initrd", args.initrd]
    if qmp:
        cmd += ["-qmp", "unix:%s,server=on,wait=off" % qmp]
    cmdline = kernel_command_line(args, cell, mode, params, bool(qmp))
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


# Boots may run at once (--jobs): each message is printed whole.
_say_lock = threading.Lock()


def say(text):
    with _say_lock:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


REQUEST_PREFIX = "# sgdma-request: "
# A device id or an error name of an aer_inject request: one HMP word.
AER_ARG = re.compile(r"^[\w-]+$")


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
        elif len(words) == 3 and words[0] == "aer_inject" and \
                AER_ARG.match(words[1]) and AER_ARG.match(words[2]):
            qmp = Qmp(qmp_path)
            try:
                out = qmp.command("human-monitor-command",
                                  **{"command-line": "pcie_aer_inject_error"
                                     " %s %s" % (words[1], words[2])})
            finally:
                qmp.close()
            # HMP answers as text: "OK id: ..." or what went wrong.
            if not (out or "").startswith("OK "):
                raise RuntimeError((out or "no answer").strip())
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


@dataclass
class Suite:
    """One group of cases: a boot, a qtest run or a host check; one
    <testsuite> of the JUnit file."""
    name: str
    cases: list
    seconds: float = 0.0
    output: str = ""
    properties: dict = field(default_factory=dict)


@dataclass
class Boot:
    """One boot: its suite, its pin totals, and the crash line of a first
    boot that was retried (kernel_log.tcg_int3_crash), if one was."""
    suite: Suite
    totals: dict
    retried: str = None


def keep_early_crash(logdir, where, crash):
    kept = os.path.join(logdir, "console.early-crash.log")
    os.replace(os.path.join(logdir, "console.log"), kept)
    if os.path.exists(os.path.join(logdir, "results.ktap")):
        os.unlink(os.path.join(logdir, "results.ktap"))
    say("# boot %s: RETRY: the kernel crashed before init with the known"
        " TCG int3 (%s); console kept in %s; booting once more"
        % (where, crash, kept))


def boot_retrying(boot_once, logdir, where):
    """Boot with boot_once(), and once more if the first boot died of the
    known TCG crash before init (judge.crash_to_retry); never a third time.

    Returns (what the last boot_once() returned, its results, its console,
    the first boot's crash line if there was a second boot, else None).
    """
    retried = None
    while True:
        outcome = boot_once()
        results = read(os.path.join(logdir, "results.ktap"))
        console = read(os.path.join(logdir, "console.log"))
        crash = judge.crash_to_retry(results, console)
        if not crash or retried:
            return outcome, results, console, retried
        retried = crash
        keep_early_crash(logdir, where, crash)


def exit_detail(status, timeout):
    """What was wrong with QEMU's end, or "" if it exited by itself."""
    if status is None:
        return "killed after %d s" % timeout
    return "QEMU exited with status %d" % status if status else ""


def boot_cell(args, name, series=None):
    """Boot one cell of the matrix in test mode and judge it; a Boot."""
    series = series or Series(args.series_label, args.kernel, args.initrd,
                              args.logdir, [])
    where = "%s/%s" % (series.label, name) if series.label else name
    prefix = where + ": "
    options = register_kernel(series.label, series.kernel)
    unmet = kconfig.cell_unmet(options, CELLS[name]["provides"]) \
        if options is not None else {}
    if unmet:
        detail = kconfig.skip_detail(unmet)
        print("# boot %s: not booted: %s" % (where, detail), flush=True)
        return Boot(Suite(where, [Case(prefix + "boot", True, detail,
                                       skipped=True)]), None)
    logdir = os.path.join(series.logdir, name)
    os.makedirs(logdir, exist_ok=True)
    for f in ("console.log", "results.ktap", "console.early-crash.log"):
        if os.path.exists(os.path.join(logdir, f)):
            os.unlink(os.path.join(logdir, f))
    bargs = series_args(args, series.label)
    bargs.kernel, bargs.initrd = series.kernel, series.initrd
    entries = manifest.boot_entries(manifest.load(args.manifest),
                                    series.label, name, args.tests,
                                    boot_provides(series.label, name))
    params = guest_params(series.label, name, [e.name for e in entries])
    qmpdir = tempfile.mkdtemp(prefix="sgdma-qmp-")
    qmp = os.path.join(qmpdir, "qmp.sock")
    try:
        cmd = qemu_command(bargs, CELLS[name], "test", logdir, qmp, params)
        cmd += disk_args(logdir)
    except ValueError as e:
        shutil.rmtree(qmpdir, ignore_errors=True)
        return Boot(Suite(where, [Case(prefix + "command_line", False,
                                       str(e))]), None)
    with open(os.path.join(logdir, "qemu.cmd"), "w") as f:
        f.write(shlex.join(cmd) + "\n")

    start = time.monotonic()
    try:
        status, results, console, retried = boot_retrying(
            lambda: run_guest(cmd, logdir, qmp, bargs.timeout),
            logdir, where)
    finally:
        shutil.rmtree(qmpdir, ignore_errors=True)
    elapsed = time.monotonic() - start

    cases, totals = judge.judge_boot(
        results, console, exit_detail(status, bargs.timeout), entries,
        boot_provides(series.label, name), prefix)
    properties = {"provides": ",".join(boot_provides(series.label, name)),
                  "retried": int(bool(retried))}
    if retried:
        properties["retry_reason"] = retried
    failed = [c for c in cases if not c.ok]
    lines = ["# boot %s: %.1f s, %d cases, %d failed (logs in %s)"
             % (where, elapsed, len(cases), len(failed), logdir)]
    if failed:
        lines.append("# --- last console lines of %s ---" % where)
        lines += ["#   " + line for line in console.splitlines()[-40:]]
    say("\n".join(lines))
    return Boot(Suite(where, cases, elapsed, console, properties), totals,
                retried)


# Sanitizer reports end the QEMU process, so the qtest that drives it fails.
SANITIZER_ENV = {
    "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1",
    "UBSAN_OPTIONS": "halt_on_error=1:abort_on_error=1:print_stacktrace=1",
}


def exit_case(prefix, status, out):
    """A failing case for a host command that exited non-zero."""
    tail = " | ".join(out.splitlines()[-3:])
    return Case(prefix + "exit_status", False,
                "exited with %s: %s" % (status, tail))


def run_qtests(args, spec):
    """One qtest binary against one QEMU: LABEL=QEMU_BINARY,QTEST_BINARY."""
    label, _, paths = spec.partition("=")
    qemu, _, qtest = paths.partition(",")
    env = dict(os.environ, QTEST_QEMU_BINARY=qemu, **SANITIZER_ENV)
    start = time.monotonic()
    out, status = run_logged(args, "qtest-" + label, [qtest, "--tap", "-k"],
                             env=env)
    name = "qtest-" + label
    cases = tap_cases(out, name + ": ", "the qtest")
    if status != 0:
        cases.append(exit_case(name + ": ", status, out))
    elapsed = time.monotonic() - start
    print("# qtest %s: %.1f s, %d cases" % (label, elapsed, len(cases)),
          flush=True)
    return Suite(name, cases, elapsed, out)


def run_logged(args, name, command, env=None):
    """Runs a host COMMAND within args.host_timeout, its output logged.

    COMMAND is a shell command line, or a list of arguments. The output
    (stdout and stderr) goes to args.logdir/NAME.log; returns (output,
    exit status), the status being "timeout" if it took too long.
    """
    try:
        proc = subprocess.run(command, shell=isinstance(command, str),
                              env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              errors="replace", timeout=args.host_timeout)
        out, status = proc.stdout, proc.returncode
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if e.stdout else ""
        status = "timeout"
    os.makedirs(args.logdir, exist_ok=True)
    log = os.path.join(args.logdir, re.sub(r"[^\w.-]+", "_", name) + ".log")
    with open(log, "w") as f:
        f.write(out)
    return out, status


def run_check(args, spec):
    """A host-side check: NAME=COMMAND, passing when COMMAND exits 0."""
    name, _, command = spec.partition("=")
    start = time.monotonic()
    out, status = run_logged(args, name, command)
    detail = ""
    if status != 0:
        detail = "exit %s: %s" % (status, " | ".join(out.splitlines()[-5:]))
    return Suite("host: " + name, [Case("host: " + name, status == 0,
                                        detail)],
                 time.monotonic() - start, out)


def run_tap_check(args, spec):
    """A host-side check that prints TAP: NAME=COMMAND, one case per test.

    Every TAP case becomes a case of its own; a missing plan, a short run
    or a non-zero exit status adds a failing case. A skip is counted as
    skipped; outside a boot there are no features to judge it by.
    """
    name, _, command = spec.partition("=")
    prefix = "host: %s: " % name
    start = time.monotonic()
    out, status = run_logged(args, name, command)
    cases = tap_cases(out, prefix, name)
    if status != 0 and all(c.ok for c in cases):
        cases.append(exit_case(prefix, status, out))
    return Suite("host: " + name, cases, time.monotonic() - start, out)


@dataclass
class Series:
    label: str
    kernel: str
    initrd: str
    logdir: str
    cells: list


def counts(cases):
    """(passed, failed, skipped) of @cases; a skip is never a pass."""
    failed = sum(not c.ok for c in cases)
    skipped = sum(c.ok and c.skipped for c in cases)
    return len(cases) - failed - skipped, failed, skipped


def report_boots(boots):
    """The summary table: per boot its counts, time and pin totals; then
    every retried boot with the crash that made it boot twice."""
    print("# %-24s %6s %6s %7s %7s %8s %12s %9s" % (
        "boot", "passed", "failed", "skipped", "retried", "seconds",
        "pages pinned", "released"))
    for b in boots:
        t = b.totals or {}
        print("# %-24s %6d %6d %7d %7s %8.1f %12s %9s" % (
            (b.suite.name,) + counts(b.suite.cases) +
            ("yes" if b.retried else "no", b.suite.seconds,
             t.get("pinned", "?"), t.get("released", "?"))))
    print("# boots: %d, %.1f s in all" % (
        len(boots), sum(b.suite.seconds for b in boots)))
    for b in boots:
        if b.retried:
            print("# retried %s: the first boot's kernel crashed before init"
                  " with the known TCG int3: %s" % (b.suite.name, b.retried))


# Failed cases repeated after the summary, where a log's tail shows them.
RECAP_MAX = 40


def report_failures(cases):
    """Every failed case again, with why, at most RECAP_MAX of them."""
    failed = [c for c in cases if not c.ok]
    if not failed:
        return
    print("# failed cases: %d" % len(failed))
    for c in failed[:RECAP_MAX]:
        print("# failed: %s%s" % (c.name, " # " + c.detail if c.detail
                                  else ""))
    if len(failed) > RECAP_MAX:
        print("# failed: ... and %d more (above)" % (len(failed) - RECAP_MAX))


def report(suites, boots=()):
    """Print every case as TAP, the boots' summary, the failed cases
    again, the number of boots retried and the closing line; return the
    exit status."""
    cases = [c for s in suites for c in s.cases]
    print("TAP version 13")
    print("1..%d" % len(cases))
    for i, case in enumerate(cases, 1):
        print("%sok %d %s%s" % ("" if case.ok else "not ", i, case.name,
                                " # " + case.detail if case.detail else ""))
    if boots:
        report_boots(boots)
    report_failures(cases)
    print("%d boots retried" % sum(bool(b.retried) for b in boots))
    passed, failed, skipped = counts(cases)
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
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
        series.append(Series(args.series_label, args.kernel, args.initrd,
                             args.logdir, args.cell or list(CELLS)))
    for s in series:
        for c in s.cells:
            if c not in CELLS:
                sys.exit("unknown cell %r (known: %s)"
                         % (c, ", ".join(CELLS)))
    return series


def check_manifest(args, series):
    """Refuse to start on a malformed manifest or an unknown TESTS name,
    before anything is booted."""
    try:
        entries = manifest.load(args.manifest)
        for s in series:
            for c in s.cells:
                manifest.boot_entries(entries, s.label, c, args.tests,
                                      boot_provides(s.label, c))
    except (OSError, ValueError) as e:
        sys.exit("manifest: %s" % e)


def boot_logdir(series, cell):
    return os.path.join(series.logdir, cell)


def run_boots(args, work):
    """Boot each (series, cell) of @work, up to args.jobs at once; the
    Boots in the order of @work, whatever order they end in."""
    logdirs = [boot_logdir(s, c) for s, c in work]
    shared = sorted({d for d in logdirs if logdirs.count(d) > 1})
    if shared:
        sys.exit("boots would share log directories: %s" % ", ".join(shared))

    def one(item):
        s, c = item
        if args.jobs > 1:
            say("# boot %s/%s: started" % (s.label, c) if s.label
                else "# boot %s: started" % c)
        return boot_cell(args, c, s)
    if args.jobs <= 1:
        return [one(w) for w in work]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        return list(pool.map(one, work))


def boot_name(series, cell):
    return "%s/%s" % (series.label, cell) if series.label else cell


def run_plan(args, series):
    """Every unit of the run (host checks, qtests, boots; each becomes one
    suite), or the slice --shard names. Returns (the whole plan's names,
    the suites run, the Boots run)."""
    units = ([("host: " + spec.partition("=")[0], run_check, spec)
              for spec in args.check] +
             [("host: " + spec.partition("=")[0], run_tap_check, spec)
              for spec in args.tap_check] +
             [("qtest-" + spec.partition("=")[0], run_qtests, spec)
              for spec in args.qtest] +
             [(boot_name(s, c), None, (s, c))
              for s in series for c in s.cells])
    plan = [name for name, _, _ in units]
    if len(set(plan)) != len(plan):
        sys.exit("units named twice: %s" % ", ".join(
            sorted({n for n in plan if plan.count(n) > 1})))
    if args.shard:
        boots = {name for name, run, _ in units if not run}
        mine = set(shard.select(plan, args.shard,
                                shard.load_weights(args.weights), boots))
        units = [u for u in units if u[0] in mine]
        say("# shard %d/%d: %d of %d units: %s" % (
            args.shard + (len(units), len(plan), ", ".join(
                name for name, _, _ in units))))
    suites = [run(args, spec) for _, run, spec in units if run]
    boots = run_boots(args, [spec for _, run, spec in units if not run])
    return plan, suites + [b.suite for b in boots], boots


def write_outputs(args, plan, suites, boots, summary):
    """The JUnit file, results.json and the summary, side by side."""
    if not args.junit:
        return
    outdir = os.path.dirname(os.path.abspath(args.junit))
    junit.write(args.junit, suites)
    shard.write_results(os.path.join(outdir, "results.json"), suites,
                        {b.suite.name: (b.totals, b.retried) for b in boots},
                        plan, args.shard)
    with open(os.path.join(outdir, "summary.txt"), "w") as f:
        f.write(summary)


def report_to(suites, boots):
    """report(), printed and returned as text: (exit status, text)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = report(suites, boots)
    sys.stdout.write(out.getvalue())
    return status, out.getvalue()


def cmd_test(args):
    series = parse_series(args)
    check_manifest(args, series)
    plan, suites, boots = run_plan(args, series)
    status, summary = report_to(suites, boots)
    write_outputs(args, plan, suites, boots, summary)
    return status


def cmd_shard_boots(args):
    """Which boots of LABEL:CELLS entries (CELLS comma-separated or "all")
    slice --shard runs, one LABEL/CELL a line: only their series need
    building."""
    names = []
    for entry in args.results:
        label, _, cells = entry.partition(":")
        names += ["%s/%s" % (label, c) for c in (
            list(CELLS) if cells == "all" else cells.replace(",", " ").split())]
    boots = set(names)
    for name in shard.select(names, args.shard,
                             shard.load_weights(args.weights), boots):
        print(name)
    return 0


def cmd_merge(args):
    """One summary, JUnit file and results.json from the results.json of
    every slice of a sharded run; a missing or repeated slice, or a unit
    no slice ran, fails the merge."""
    runs = [shard.read_results(path) for path in args.results]
    merged, problems = shard.merge(runs)
    suites, boots = [], []
    for d in merged:
        suite = Suite(d["name"], [Case(**c) for c in d["cases"]],
                      d["seconds"], d["output"], d["properties"])
        suites.append(suite)
        if d["boot"]:
            boots.append(Boot(suite, d["totals"], d["retried"]))
    if problems:
        suites.append(Suite("merge", [Case("merge: " + p, False)
                                      for p in problems]))
    status, summary = report_to(suites, boots)
    plan = runs[0]["plan"] if runs else []
    args.shard = None
    write_outputs(args, plan, suites, boots, summary)
    return status


def cmd_interactive(args, mode):
    register_kernel(args.series_label, args.kernel)
    args = series_args(args, args.series_label)
    name = args.cell[0] if args.cell else "no-iommu"
    cmd = qemu_command(args, CELLS[name], mode, args.logdir,
                       params=guest_params(args.series_label, name))
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


def parser():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["test", "run", "shell", "merge",
                                    "shard-boots"])
    p.add_argument("results", nargs="*",
                   help="merge: the results.json of every slice; "
                   "shard-boots: LABEL:CELLS of every series")
    p.add_argument("--qemu")
    p.add_argument("--qtest", action="append", default=[],
                   metavar="LABEL=QEMU,QTEST",
                   help="run qtest binary QTEST against QEMU (repeatable)")
    p.add_argument("--kernel")
    p.add_argument("--initrd")
    p.add_argument("--series", action="append", default=[], nargs=5,
                   metavar=("LABEL", "KERNEL", "INITRD", "LOGDIR", "CELLS"),
                   help="test mode: boot CELLS (space- or comma-separated, "
                   "or 'all') of this kernel (repeatable)")
    p.add_argument("--series-qemu", action="append", default=[],
                   metavar="LABEL=QEMU",
                   help="test mode: boot series LABEL on this QEMU binary "
                   "instead of --qemu's (repeatable)")
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
                   help="the kernel series of --kernel, for its settings"
                   " and features")
    p.add_argument("--tests", type=lambda v: v.replace(",", " ").split(),
                   help="test mode: run only these guest programs (space- or"
                   " comma-separated) and the manifest's 'always' ones")
    p.add_argument("--manifest", default=manifest.MANIFEST,
                   help="the guest manifest (default: %(default)s)")
    p.add_argument("--junit", default="build/test-results/junit.xml",
                   help="test mode: write JUnit XML here (default:"
                   " %(default)s; empty: none)")
    p.add_argument("--host-timeout", type=int, default=1200,
                   help="hard limit per qtest run or host check, seconds "
                   "(the ASan qtests take minutes on a loaded machine)")
    p.add_argument("--timeout", type=int, default=300,
                   help="hard limit per boot, seconds")
    p.add_argument("--logdir", default="build/logs")
    p.add_argument("--jobs", type=int, default=1,
                   help="test mode: boots at once (default: %(default)s)")
    p.add_argument("--shard", type=shard.parse_shard, metavar="I/N",
                   help="test mode: run only the I-th of N slices of the "
                   "units (host checks, qtests, boots)")
    p.add_argument("--weights", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "ci",
        "shard-weights"), help="seconds per unit, for --shard's balance")
    return p


def main():
    p = parser()
    args = p.parse_intermixed_args()
    if args.mode == "merge":
        return cmd_merge(args)
    if args.mode == "shard-boots":
        return cmd_shard_boots(args)
    if not args.qemu:
        p.error("--qemu is required")
    if args.jobs < 1:
        p.error("--jobs must be at least 1")
    if args.mode != "test" and not (args.kernel and args.initrd):
        p.error("--kernel and --initrd are required")
    if args.mode == "test":
        return cmd_test(args)
    return cmd_interactive(args, args.mode)


if __name__ == "__main__":
    sys.exit(main())
