# SPDX-License-Identifier: GPL-2.0-or-later
"""(K)TAP parsing and the judgement of each reported case.

A case passes, fails, or is skipped; it is never a pass because it was
skipped. In a boot a skip must also be justified: it names the features it
needs ("# SKIP needs=iommu,ats: why") and at least one of them must be
missing from the boot, or the skip is a failure. That keeps a cell that
silently lacks what it claims (an IOMMU that stayed off) from passing as a
row of skips.
"""

import re
from dataclasses import dataclass, field

# The features a boot can provide, as tests name them in needs=. A name
# outside this list is a typo that would make its skip justified forever.
FEATURES = ("iommu", "iommu-strict", "iommu-lazy", "ats", "bounce",
            "strict-device", "fault-injection", "kernel-debug", "hotplug",
            "high-memory")


@dataclass
class Case:
    """One judged result. A skipped case is ok (not a failure) but is
    counted apart from the passed ones."""
    name: str
    ok: bool
    detail: str = ""
    skipped: bool = False


@dataclass
class Node:
    """One "ok"/"not ok" line with the results nested under it, and the
    diagnostic lines ("# ...") printed at its depth since the result
    before it: what a failed case said about itself."""
    name: str
    ok: bool
    directive: str
    children: list = field(default_factory=list)
    plan: int = None
    number: int = None
    diag: list = field(default_factory=list)
    first: bool = False     # the first result of its document

    @property
    def skip(self):
        return self.directive.upper().startswith("SKIP")


@dataclass
class Document:
    """A parsed KTAP document: its top-level results and plan, the
    "Bail out!" lines, and results that belong to no parent (a stream
    that ended inside a nested test)."""
    nodes: list
    plan: int = None
    bail_outs: list = field(default_factory=list)
    orphans: dict = field(default_factory=dict)


RESULT_RE = re.compile(r"^(not )?ok (\d+)\s*-?\s*([^#]*?)\s*(#\s*(.*))?$")
PLAN_RE = re.compile(r"^1\.\.(\d+)")
BAIL_OUT_RE = re.compile(r"^Bail out!")
# "SKIP needs=iommu,ats: the reason"
NEEDS_RE = re.compile(r"^SKIP\s+needs=([\w,-]+)\s*(?::\s*(.*))?$", re.I)


def parse_ktap(text):
    """Parse (K)TAP with subtests nested by 4-space indentation.

    A nested document's results and plan are claimed by the next result
    line one level up, which is how KTAP closes a subtest.
    """
    pending = {}    # indent -> results seen at that depth, not yet claimed
    plans = {}      # indent -> plan seen at that depth
    diags = {}      # indent -> diagnostics since the last result there
    doc = Document(nodes=[])
    for raw in text.splitlines():
        line = raw.rstrip("\r\n")
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if stripped.startswith("#"):
            diags.setdefault(indent, []).append(stripped[1:].strip())
            continue
        if BAIL_OUT_RE.match(stripped):
            doc.bail_outs.append(stripped)
            continue
        m = PLAN_RE.match(stripped)
        if m:
            plans[indent] = int(m.group(1))
            continue
        m = RESULT_RE.match(stripped)
        if not m:
            continue
        node = Node(name=m.group(3).strip() or "test %s" % m.group(2),
                    ok=m.group(1) is None,
                    directive=(m.group(5) or "").strip(),
                    children=pending.pop(indent + 4, []),
                    plan=plans.pop(indent + 4, None),
                    number=int(m.group(2)),
                    diag=diags.pop(indent, []),
                    first=not pending.get(indent))
        diags.pop(indent + 4, None)
        pending.setdefault(indent, []).append(node)
    doc.nodes = pending.pop(0, [])
    doc.plan = plans.get(0)
    doc.orphans = pending
    return doc


def judge_skip(directive, provides):
    """The failure message of a skip that is not justified, or None.

    @provides is the set of features of the boot; None outside a boot
    (host checks, qtests), where a skip is counted but not judged.
    """
    if provides is None:
        return None
    m = NEEDS_RE.match(directive)
    if not m:
        return "skipped without naming what it needs (needs=): %r" % directive
    needs = [n for n in m.group(1).split(",") if n]
    unknown = [n for n in needs if n not in FEATURES]
    if unknown:
        return "skip needs unknown feature %s (known: %s)" % (
            ",".join(unknown), ", ".join(FEATURES))
    if all(n in provides for n in needs):
        return "skipped, but this boot provides %s (%s)" % (
            ",".join(needs), directive)
    return None


# A failed case without a directive says why in its diagnostics: from its
# first failed expectation (EXPECT() prints "file:line: expected EXPR"),
# which the failures after it usually follow from, with the line before
# it (what the case saw: "3 in flight, 8 wanted"); else its last lines.
FAILURE_DIAG_LINES = 3
FAILURE_DETAIL_MAX = 400
EXPECTATION = re.compile(r":\d+: expected ")


def failure_lines(node):
    """The diagnostics that say why @node (failed, no directive) failed."""
    diag = node.diag
    first = next((i for i, line in enumerate(diag)
                  if EXPECTATION.search(line)), None)
    if first is None:
        return diag[-FAILURE_DIAG_LINES:]
    # Before a document's first result, its first line may be the
    # program's own preamble rather than the case's.
    if first and not (node.first and first == 1):
        first -= 1
    return diag[first:first + FAILURE_DIAG_LINES]


def failure_detail(node):
    """Why @node failed: its directive, else its diagnostics."""
    if node.directive:
        return node.directive
    detail = " / ".join(failure_lines(node))
    if len(detail) > FAILURE_DETAIL_MAX:
        detail = detail[:FAILURE_DETAIL_MAX - 3] + "..."
    return detail


def leaf_case(node, name, provides):
    """The judged case of a result with nothing nested under it."""
    if not node.ok:
        return Case(name, False, failure_detail(node))
    if not node.skip:
        return Case(name, True, node.directive)
    unjustified = judge_skip(node.directive, provides)
    if unjustified:
        return Case(name, False, unjustified)
    return Case(name, True, node.directive, skipped=True)


def misnumbered(nodes):
    """Why the numbers of sibling results are not 1, 2, 3..., or None.

    A number out of sequence means a result line was lost, repeated or
    printed by something that lost count.
    """
    numbers = [n.number for n in nodes]
    if numbers == list(range(1, len(nodes) + 1)):
        return None
    return "results numbered %s, expected 1..%d" % (
        ",".join(map(str, numbers[:20])), len(nodes))


def leaf_cases(nodes, prefix, provides=None):
    """Flatten parsed nodes into test cases, one per leaf.

    A parent that failed while all its children passed (a crash after the
    last case, a bad exit status), whose children fell short of its plan
    or are numbered out of sequence adds a failing case of its own.
    """
    cases = []
    for node in nodes:
        name = prefix + node.name
        if not node.children:
            cases.append(leaf_case(node, name, provides))
            continue
        cases.extend(leaf_cases(node.children, name + "/", provides))
        if misnumbered(node.children):
            cases.append(Case(name, False, misnumbered(node.children)))
        if node.plan is not None and node.plan != len(node.children):
            cases.append(Case(name, False, "planned %d cases, reported %d"
                              % (node.plan, len(node.children))))
        elif not node.ok and all(c.ok for c in node.children):
            cases.append(Case(name, False, node.directive))
    return cases


def document_cases(doc, prefix, what):
    """Failures of the document as a whole: its plan, bail-outs, and
    results cut off from their parent by the end of the stream."""
    cases = []
    if doc.plan is None:
        cases.append(Case(prefix + "plan", False, "%s printed no plan" % what))
    elif doc.plan != len(doc.nodes):
        cases.append(Case(prefix + "plan", False, "%s planned %d, reported %d"
                          % (what, doc.plan, len(doc.nodes))))
    if misnumbered(doc.nodes):
        cases.append(Case(prefix + "numbering", False,
                          "%s: %s" % (what, misnumbered(doc.nodes))))
    for line in doc.bail_outs:
        cases.append(Case(prefix + "bail_out", False, line))
    for indent, nodes in sorted(doc.orphans.items()):
        cases.append(Case(prefix + "truncated", False,
                          "%s ended inside a test: %d results at depth %d"
                          " (from %r) were never closed by their parent"
                          % (what, len(nodes), indent // 4, nodes[0].name)))
    return cases


def tap_cases(text, prefix, what, provides=None):
    """Cases from a whole TAP/KTAP document, with missing ones as failures."""
    doc = parse_ktap(text)
    return leaf_cases(doc.nodes, prefix, provides) + \
        document_cases(doc, prefix, what)
