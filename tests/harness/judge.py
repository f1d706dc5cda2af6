# SPDX-License-Identifier: GPL-2.0-or-later
"""The verdict on one boot, from what it left behind: the result stream
of the guest runner (KTAP, "# totals:" lines, announcements, the kernel
log as "# kmsg:" lines), the console, and how QEMU ended.

Everything here is a pure function of those texts, so the harness' self
tests can judge scripted boots exactly as real ones.
"""

import re

import kernel_log
import manifest
from ktap import Case, document_cases, leaf_cases, parse_ktap

INIT_MARKER = "# sgdma: init started"
DONE_MARKER = "# sgdma: done"
# Printed by the guest runner as each program or check starts.
RUNNING_PREFIX = "# sgdma: running "
KMSG_PREFIX = "# kmsg: "
# "# totals: PROGRAM key=value...", printed by the guest runner before the
# first program ("start") and after each one.
TOTALS_RE = re.compile(r"^# totals: (\S+)((?: \w+=-?\d+)+)\s*$")
TOTALS_KEYS = ("foll_pin_acquired", "foll_pin_released",
               "driver_pages_pinned", "driver_pages_leaked",
               "kernel_problems")


def kmsg_lines(results_lines):
    return [line[len(KMSG_PREFIX):] for line in results_lines
            if line.startswith(KMSG_PREFIX)]


def crash_to_retry(results, console):
    """The crash line if this boot died of the one known TCG crash, else
    None.

    The guest's init writes INIT_MARKER before it loads the module, so a
    crash before the marker happened in the kernel's own boot. Only the
    TCG int3 signature is retried (kernel_log.tcg_int3_crash), and only
    when its report mentions nothing of ours: the device is enumerated
    and ATS set up before init, so a device bug can crash there too.
    After init the same crash is retried only when its code dump proves
    the int3 was not in memory (seen on 6.12 in __schedule, 2 boots of
    14 in one run): no driver can make a CPU trap on an int3 that is
    not there.
    """
    after_init = INIT_MARKER in results.splitlines()
    return kernel_log.tcg_int3_crash(console.splitlines(),
                                     proven_stale=after_init)


def parse_totals(results_lines):
    """The guest's "# totals:" lines as {program: {key: value}}, in order."""
    totals = {}
    for line in results_lines:
        m = TOTALS_RE.match(line)
        if m:
            totals[m.group(1)] = {k: int(v) for k, v in (
                kv.split("=") for kv in m.group(2).split())}
    return totals


def _missing_counters(t):
    """Counters a "# totals:" line lacks or reports as -1 (unreadable)."""
    return [k for k in TOTALS_KEYS if t.get(k, -1) == -1]


def _leaks(t, base):
    """What program totals @t show held or logged since the start.

    Pages the driver leaked on purpose (a channel that would not stop may
    still write them) stay pinned for good; they are counted in its
    pages_leaked (driver_pages_leaked), and only those may stay pinned.
    """
    problems = []
    held = t["foll_pin_acquired"] - t["foll_pin_released"]
    held0 = base["foll_pin_acquired"] - base["foll_pin_released"]
    leaked = t["driver_pages_leaked"] - base["driver_pages_leaked"]
    if held - held0 != leaked:
        problems.append("%d pages still pinned%s" % (
            held - held0, ", %d of them leaked by the driver" % leaked
            if leaked else ""))
    if t["driver_pages_pinned"]:
        problems.append("driver holds %d pinned pages"
                        % t["driver_pages_pinned"])
    if t["kernel_problems"] != base["kernel_problems"]:
        problems.append("%d new kernel problem lines"
                        % (t["kernel_problems"] - base["kernel_problems"]))
    return problems


def totals_cases(totals, prefix, programs):
    """Nothing lost, nothing leaked: pins balance after every program.

    Returns (cases, {"pinned": N, "released": N} or None). A counter the
    guest could not read (-1) fails: an unknown balance is no balance.
    """
    base = totals.get("start")
    if base is None:
        return [Case(prefix + "totals", False,
                     "the guest reported no pin totals")], None
    cases = []
    base_missing = ["%s at start" % k for k in _missing_counters(base)]
    for prog in programs:
        t = totals.get(prog)
        if t is None:
            problems = ["no totals after it"]
        elif _missing_counters(t) or base_missing:
            problems = ["counters missing: " + ", ".join(
                _missing_counters(t) + base_missing)]
        else:
            problems = _leaks(t, base)
        cases.append(Case(prefix + prog + "/nothing_leaked", not problems,
                          "; ".join(problems)))
    last = totals[list(totals)[-1]]
    return cases, {
        "pinned": last.get("foll_pin_acquired", 0) -
        base.get("foll_pin_acquired", 0),
        "released": last.get("foll_pin_released", 0) -
        base.get("foll_pin_released", 0)}


def kernel_log_cases(results_lines, console_lines, prefix):
    """The kernel-log rules (kernel_log) over the console and the kernel
    log: one case for problems, one for announced IOMMU faults, one for
    announced AER errors."""
    kmsg = kmsg_lines(results_lines)
    announced, malformed = kernel_log.parse_announcements(results_lines)
    aer_ports = kernel_log.parse_aer_announcements(results_lines)
    excused = (kernel_log.injected_alloc_dump_lines(kmsg) |
               kernel_log.announced_fault_lines(kmsg, announced) |
               kernel_log.announced_fault_lines(console_lines, announced) |
               kernel_log.announced_aer_lines(kmsg, aer_ports) |
               kernel_log.announced_aer_lines(console_lines, aer_ports))
    problems = (kernel_log.kernel_problems(console_lines, excused) +
                kernel_log.kernel_problems(kmsg, excused))
    unique = dict.fromkeys(p.strip() for p in problems)
    cases = [Case(prefix + "kernel_log_clean", not problems,
                  "; ".join(unique)[:2000])]
    if announced or malformed:
        missing = kernel_log.missing_faults(kmsg + console_lines, announced)
        detail = ["announced but never reported: " + m for m in missing]
        detail += ["malformed announcement: " + m for m in malformed]
        cases.append(Case(prefix + "iommu_faults_announced", not detail,
                          "; ".join(detail)))
    if aer_ports:
        missing = kernel_log.missing_aer_errors(kmsg + console_lines,
                                                aer_ports)
        cases.append(Case(prefix + "aer_errors_announced", not missing,
                          "; ".join("announced but never received at " + p
                                    for p in missing)))
    return cases


def unfinished(lines):
    """Where a result stream that never ended stopped: the program or
    check that started and printed no result, or what came last."""
    running = None
    for line in lines:
        if line.startswith(RUNNING_PREFIX):
            running = line[len(RUNNING_PREFIX):].strip()
        elif running and re.match(r"^(not )?ok \d+ %s( |$)"
                                  % re.escape(running), line):
            running = None
    if running:
        return "while running %s" % running
    last = [line for line in lines if line.strip()]
    return "after %r" % last[-1][:120] if last else "before any output"


def judge_boot(results, console, exit_detail, entries, provides, prefix):
    """Every case of one boot.

    @exit_detail: why QEMU's end was wrong ("killed after 300 s"), or "".
    @entries: the manifest entries this boot ran; @provides: its features.
    """
    lines = results.splitlines()
    console_lines = console.splitlines()
    doc = parse_ktap(results)
    failures, nodes = manifest.judge(
        doc.nodes, entries, lambda name, why: Case(prefix + name, False, why))
    cases = leaf_cases(nodes, prefix, provides) + failures
    cases += document_cases(doc, prefix, "the guest")

    complete = DONE_MARKER in lines and not exit_detail
    detail = ""
    if not complete:
        detail = "%s, %s" % (
            exit_detail or "result stream ended without the done marker",
            unfinished(lines))
    cases.append(Case(prefix + "boot_complete", complete, detail))
    cases += kernel_log_cases(lines, console_lines, prefix)

    ran = {n.name for n in doc.nodes}
    programs = [e.name for e in entries
                if e.cases is not None and e.name in ran]
    leak_cases, totals = totals_cases(parse_totals(lines), prefix, programs)
    return cases + leak_cases, totals
