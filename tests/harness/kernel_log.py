# SPDX-License-Identifier: GPL-2.0-or-later
"""The kernel-log rules: what in a guest's console or kernel log fails a
boot, and the only things ever excused.

A boot fails on any kernel problem line, whatever its tests said. Three
kinds are excused, each narrowly:
  - IOMMU fault records a test announced before causing them on purpose
    ("# sgdma-expect: iommu-fault dev=... addr=... dir=..."), matched by
    device, page and direction; an announced fault that never shows up
    fails too, so a test cannot announce its way past an IOMMU that is off;
  - the AER report of a port where a test had the host inject an error
    ("# sgdma-expect: aer-error port=..."): that port's own lines, but
    never a failed recovery or reset; an announced error the port never
    received fails too;
  - the stack dump of an allocation failure that fault injection logged as
    injected, up to its "</TASK>", and only its dump-shaped lines.
"""

import re
from dataclasses import dataclass

# What the kernel prints when something is wrong. Besides the generic
# oops/BUG/WARN family this covers the debug kernel's detectors: KASAN,
# UBSAN, lockdep, DEBUG_ATOMIC_SLEEP, DMA-API debugging (every error is a
# WARN with "DMA-API:"; its own informational lines are not problems),
# kmemleak (reports, and turning itself off), SLUB's checks ("BUG
# kmalloc-64 (...): ...") and page poisoning ("pagealloc: ...", and
# "BUG: Bad page state/map" for a page freed or mapped in a bad state).
PROBLEM_PATTERNS = (
    r"\bOops\b", r"\bBUG:", r"kernel BUG at", r"WARNING:",
    r"-+\[ cut here \]-+", r"Kernel panic", r"Call Trace:",
    # die()'s header, "int3: 0000 [#1]" on 6.1, "Oops: int3: ..." later
    r"\w: [0-9a-f]{4} \[#\d+\]",
    r"general protection fault", r"soft lockup", r"hard LOCKUP",
    r"blocked for more than \d+ seconds", r"rcu_\w+ (self-)?detected stall",
    r"possible (circular|recursive) locking", r"inconsistent lock state",
    r"sleeping function called from invalid", r"refcount_t:",
    r"UBSAN:", r"KASAN",
    r"DMA-API: (?!preallocated \d+ debug entries|debugging enabled by kernel"
    r" config|dma_debug_entry pool grown)",
    r"new suspected memory leak", r"unreferenced object",
    r"kmemleak: (Cannot|Memory pool empty)",
    r"Kernel memory leak detector disabled",
    r"\bBUG [\w.:-]+ \(", r"pagealloc: (memory corruption|single bit error)",
    # The IOMMU: a DMA fault record ("DMAR: [DMA Read NO_PASID] Request
    # device [00:03.0] fault addr 0x300000 ..."), an interrupt-remapping
    # fault, its handler's header, an invalidation that timed out or was
    # refused, and fault records the rate limit swallowed.
    r"DMAR: \[(DMA Read|DMA Write|INTR-REMAP)", r"DMAR: DRHD: handling fault",
    r"VT-d detected Invalidation", r"dmar_fault: \d+ callbacks suppressed",
    # Bouncing ran out, an interrupt nobody handles, a PCIe error
    # reported through AER (its "enabled" line at probe is no error).
    r"swiotlb buffer is full", r"No irq handler for vector",
    r"AER: (?!enabled with IRQ)", r"PCIe Bus Error",
    # Lost messages could have been any of the above.
    r"printk messages dropped",
)
KERNEL_PROBLEMS = re.compile("|".join("(?:%s)" % p for p in PROBLEM_PATTERNS))


def kernel_problems(lines, excused=frozenset()):
    """The problem lines of @lines that are not in @excused."""
    return [line for line in lines
            if KERNEL_PROBLEMS.search(line) and line not in excused]


# --- Announced IOMMU faults ----------------------------------------------

@dataclass(frozen=True)
class Fault:
    """A DMA fault as the IOMMU reports it: requester, page, direction."""
    bus: int
    slot: int
    func: int
    page: int
    dir: str        # "read" (the device reads memory) or "write"

    def __str__(self):
        return "%02x:%02x.%d addr=%#x dir=%s" % (
            self.bus, self.slot, self.func, self.page << 12, self.dir)


EXPECT_PREFIX = "# sgdma-expect: "
EXPECT_RE = re.compile(
    r"^# sgdma-expect: iommu-fault dev=0000:([0-9a-f]{2}):([0-9a-f]{2})"
    r"\.([0-7]) addr=0x([0-9a-f]+) dir=(read|write)$")
# dmar_fault_do_one(): "[DMA Read]" on old kernels, "[DMA Read NO_PASID]"
# or "[DMA Write PASID 0x1]" since 5.x; "fault addr 0x..." (older: no 0x).
FAULT_RECORD_RE = re.compile(
    r"DMAR: \[DMA (Read|Write)[^\]]*\] Request device \[([0-9a-f]{2}):"
    r"([0-9a-f]{2})\.([0-7])\] fault addr (?:0x)?([0-9a-f]+)")
DRHD_RE = re.compile(r"DMAR: DRHD: handling fault")


def parse_announcements(results_lines):
    """The faults announced in the results, and malformed announcements
    (neither an IOMMU fault nor an AER error, parse_aer_announcements()).

    The runner indents a program's output; an announcement is one at any
    depth.
    """
    announced, malformed = set(), []
    for line in results_lines:
        text = line.strip()
        if not text.startswith(EXPECT_PREFIX) or AER_EXPECT_RE.match(text):
            continue
        m = EXPECT_RE.match(text)
        if not m:
            malformed.append(text)
            continue
        bus, slot, func, addr = (int(g, 16) for g in m.group(1, 2, 3, 4))
        announced.add(Fault(bus, slot, func, addr >> 12, m.group(5)))
    return announced, malformed


def fault_record(line):
    """The Fault of a DMAR fault record line, or None."""
    m = FAULT_RECORD_RE.search(line)
    if not m:
        return None
    bus, slot, func, addr = (int(g, 16) for g in m.group(2, 3, 4, 5))
    return Fault(bus, slot, func, addr >> 12, m.group(1).lower())


def announced_fault_lines(lines, announced):
    """The fault records of @lines matching an announcement, with the
    "DRHD: handling fault" header printed right before each.

    One announcement covers every record of its device, page and
    direction: the IOMMU may record one faulting access more than once
    (the device retries, QEMU collapses only pending records), and the
    rate limit may drop some, so counting them would fail at random.
    """
    excused = set()
    for i, line in enumerate(lines):
        if fault_record(line) in announced:
            excused.add(line)
            if i and DRHD_RE.search(lines[i - 1]):
                excused.add(lines[i - 1])
    return excused


def missing_faults(lines, announced):
    """Announced faults with no record in @lines."""
    seen = {fault_record(line) for line in lines}
    return sorted(str(f) for f in announced - seen)


# --- Announced AER errors ------------------------------------------------

AER_EXPECT_RE = re.compile(
    r"^# sgdma-expect: aer-error port=([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}"
    r"\.[0-7])$")
# What the AER service says of a recovery that did not work: never excused.
AER_FAILED = re.compile(r"recovery failed|reset failed|can't recover")
# The root port's report of an error message it received.
AER_RECEIVED = re.compile(r"AER: .*error (?:message )?received")


def parse_aer_announcements(results_lines):
    """The ports (PCI addresses) announced to report an injected error."""
    ports = set()
    for line in results_lines:
        m = AER_EXPECT_RE.match(line.strip())
        if m:
            ports.add(m.group(1))
    return ports


def _port_line(line, port):
    """Whether @line is a message of the device @port ("pcieport PORT: ")."""
    return (" %s: " % port) in line


def announced_aer_lines(lines, ports):
    """The AER lines of announced ports: their report of the error and of
    the recovery, unless it failed. Lines of the devices below a port (their
    drivers' votes) are not excused."""
    return {line for line in lines
            if any(_port_line(line, p) for p in ports)
            and not AER_FAILED.search(line)}


def missing_aer_errors(lines, ports):
    """Announced ports whose AER service never received an error."""
    return sorted(p for p in ports
                  if not any(_port_line(line, p) and AER_RECEIVED.search(line)
                             for line in lines))


# --- Injected allocation failures ----------------------------------------

# The kernel's report of a failed allocation ("page allocation failure",
# "vmalloc error") with its stack dump is not a bug when the failure was
# injected on purpose (sgdma_failinject): fault injection logs each one
# ("FAULT_INJECTION: forcing a failure." and its attributes) right before.
ALLOC_FAILURE = re.compile(r"page allocation failure: order:\d+"
                           r"|vmalloc error: size \d+")
INJECTED = "FAULT_INJECTION: forcing a failure."
INJECTED_WITHIN = 4         # lines between the notice and the report
DUMP_MAX_LINES = 80         # a warn_alloc() dump is about 30-50 lines
TASK_END = "</TASK>"
# What a warn_alloc() dump is made of: the CPU and hardware lines of
# dump_stack(), the trace and its frames. Nothing else in the window is
# excused, so a KASAN or WARNING line printed inside it still fails.
DUMP_LINE = re.compile(
    r"(?:^|\] )(?:CPU: \d+ PID: \d+ Comm: |Hardware name: |Call Trace:$"
    r"|\s*</?TASK>$|\s*(?:\? )?[\w.]+\+0x[0-9a-f]+/0x[0-9a-f]+(?: \[\w+\])?$)")


def _dump_end(lines, start):
    """The index of the "</TASK>" closing the dump at @start, or None if
    there is none within DUMP_MAX_LINES."""
    for i in range(start, min(len(lines), start + DUMP_MAX_LINES)):
        if TASK_END in lines[i]:
            return i
    return None


def injected_alloc_dump_lines(lines):
    """Lines of allocation-failure dumps explained by injected failures.

    Only the guest's full kernel log has the fault-injection notices (the
    console shows warnings only), so this is computed on it, and the same
    lines are excused on the console too. A dump with no "</TASK>" within
    bounds excuses nothing.
    """
    excused = set()
    for i, line in enumerate(lines):
        notices = lines[max(0, i - INJECTED_WITHIN):i]
        if not ALLOC_FAILURE.search(line) or \
                not any(INJECTED in prev for prev in notices):
            continue
        end = _dump_end(lines, i)
        if end is not None:
            excused.update(dump for dump in lines[i:end + 1]
                           if DUMP_LINE.search(dump.rstrip()))
    return excused


# --- The one crash that is retried ---------------------------------------

# Multi-threaded TCG running a stale translation of kernel text the other
# vCPU just patched through a temporary int3: "Oops: int3: 0000 [#1]" on
# 6.12 (6.1 prints "int3: 0000 [#1]"), seen in sched_clock_idle_wakeup_event
# about 1 boot in 60 on a loaded host.
TCG_INT3 = re.compile(r"(?:^|\] )(?:Oops: )?int3: [0-9a-f]{4} \[#1\]")
# A crash report that mentions any of these may be ours, so is never
# retried: sgdma, its PCI ids, DMA, the IOMMU, bouncing.
OURS = re.compile(r"sgdma|1234:5347|dma|iommu|dmar|swiotlb", re.I)


# The report's list of loaded modules names sgdma once the driver is
# loaded; a list is no sign of involvement, a frame or message would be.
MODULE_LIST = re.compile(r"Modules linked in:")
# die() dumps the code around RIP with the byte at RIP in <>. An int3 trap
# leaves RIP just after the int3, so a real one shows "cc <xx>"; any other
# byte there means the vCPU trapped on an int3 that is not in memory: a
# stale translation of text patched since, the emulator's doing.
CODE_AT_RIP = re.compile(r"\bCode: (?:[0-9a-f]{2} )*([0-9a-f]{2}) <[0-9a-f]{2}>")


def int3_not_in_memory(report_lines):
    """Whether the report's code dump proves the int3 was not in memory."""
    for line in report_lines:
        m = CODE_AT_RIP.search(line)
        if m:
            return m.group(1) != "cc"
    return False


def tcg_int3_crash(console_lines, proven_stale=False):
    """The crash line if the console shows the known TCG int3 crash and
    nothing of ours in its report, else None.

    The int3 must be the first problem on the console, and nothing from
    there to the end (the report, the panic, the other vCPU's messages)
    but the list of loaded modules may mention sgdma, DMA or the IOMMU.
    With @proven_stale (a crash after init, with the driver loaded), the
    report's code dump must also prove the int3 was not in memory.
    """
    first = next((i for i, line in enumerate(console_lines)
                  if KERNEL_PROBLEMS.search(line)), None)
    if first is None or not TCG_INT3.search(console_lines[first]):
        return None
    report = console_lines[first:]
    if any(OURS.search(line) and not MODULE_LIST.search(line)
           for line in report):
        return None
    if proven_stale and not int3_not_in_memory(report):
        return None
    return console_lines[first].strip()
