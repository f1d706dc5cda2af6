# SPDX-License-Identifier: GPL-2.0-or-later
"""The guest manifest (tests/guest/manifest) and the judgement of a boot's
results against it.

The manifest, not what happens to be in the initramfs, says what a boot
runs: which programs and checks, in which order, with how many cases. So a
program that is missing, runs twice, prints no KTAP or plans fewer cases
than it should fails the boot instead of quietly shrinking it.
"""

import dataclasses
import os
import re
from dataclasses import dataclass

from ktap import FEATURES

MANIFEST = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "..", "guest", "manifest")

# The guest runner's own first case, before any program.
RUNNER_CASES = ("module_load",)


@dataclass
class Entry:
    """One line of the manifest."""
    name: str
    cases: int          # None: a check with no nested plan ("-")
    always: bool        # runs even when TESTS names other programs
    series: tuple       # (exclude?, names) or None for every series
    cells: tuple        # (exclude?, names) or None for every cell
    features: tuple = None  # (exclude?, names) or None for every boot

    def runs_in(self, series, cell, provides=()):
        return (_selects(self.series, series) and
                _selects(self.cells, cell) and
                _provided(self.features, provides))


def _selects(selector, value):
    if selector is None:
        return True
    exclude, names = selector
    return (value in names) != exclude


def _provided(selector, provides):
    """"a,b": the boot provides a and b; "!a,b": neither."""
    if selector is None:
        return True
    exclude, names = selector
    if exclude:
        return not set(names) & set(provides)
    return set(names) <= set(provides)


def _selector(text):
    """"a,b" selects a and b; "!a,b" everything but a and b."""
    exclude = text.startswith("!")
    return exclude, tuple(n for n in text.lstrip("!").split(",") if n)


def parse(text, where="manifest"):
    """Parse the manifest's text into Entries; raise ValueError on a
    malformed line, naming it."""
    entries = []
    for number, raw in enumerate(text.splitlines(), 1):
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) < 2 or not re.fullmatch(r"\d+|-", words[1]):
            raise ValueError("%s:%d: expected NAME CASES [options]: %r"
                             % (where, number, raw))
        entry = Entry(words[0], None if words[1] == "-" else int(words[1]),
                      False, None, None)
        for option in words[2:]:
            key, _, value = option.partition("=")
            if option == "always":
                entry.always = True
            elif key in ("series", "cells", "features") and value:
                setattr(entry, key, _selector(value))
                unknown = set(entry.features[1] if entry.features else ())
                unknown -= set(FEATURES)
                if unknown:
                    raise ValueError("%s:%d: unknown feature %s (known: %s)"
                                     % (where, number,
                                        ", ".join(sorted(unknown)),
                                        ", ".join(FEATURES)))
            else:
                raise ValueError("%s:%d: unknown option %r"
                                 % (where, number, option))
        entries.append(entry)
    return entries


def load(path=MANIFEST):
    with open(path) as f:
        return parse(f.read(), path)


def boot_entries(entries, series, cell, tests=None, provides=()):
    """The entries one boot runs, in order: those selected for its series,
    cell and the features it @provides, and, when @tests names programs, only those and the
    "always" ones. A name in @tests that the manifest does not know is an
    error, not a boot that silently runs nothing."""
    if tests:
        unknown = set(tests) - {e.name for e in entries}
        if unknown:
            raise ValueError("not in the manifest: %s"
                             % ", ".join(sorted(unknown)))
    chosen = [e for e in entries if e.runs_in(series, cell, provides)
              and (not tests or e.always or e.name in tests)]
    names = [e.name for e in chosen]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError("listed twice for %s/%s: %s"
                         % (series, cell, ", ".join(sorted(duplicates))))
    return chosen


def _entry_failure(entry, node):
    """Why @node's results do not match its manifest @entry, or None."""
    if entry.cases is None:
        if node.plan is not None:
            return "a check, but it printed a nested plan 1..%d" % node.plan
        return None
    if node.plan is None and not node.children:
        return "printed no KTAP (the manifest expects %d cases)" % entry.cases
    if node.plan != entry.cases:
        return "planned %s cases, the manifest says %d" % (
            "no" if node.plan is None else node.plan, entry.cases)
    return None


def judge(nodes, entries, case):
    """Check a boot's top-level results against its manifest entries.

    Returns (failures, nodes): failures are cases made by @case(name,
    detail) for missing, extra and out-of-order programs and plans that
    differ; in the nodes returned, a program that printed no KTAP is
    itself a failure instead of a leaf that passes.
    """
    failures = []
    expected = [e.name for e in entries]
    by_name = {e.name: e for e in entries}
    seen = [n.name for n in nodes if n.name not in RUNNER_CASES]
    for name in expected:
        if name not in seen:
            failures.append(case(name, "missing: in the manifest for this"
                                 " boot, but not in its results"))
    for name in seen:
        if name not in by_name:
            failures.append(case(name, "not in the manifest for this boot"))
    for name in sorted({n for n in seen if seen.count(n) > 1}):
        failures.append(case(name, "reported %d times" % seen.count(name)))
    ran = [n for n in seen if n in by_name]
    if len(set(ran)) == len(ran) and ran != [n for n in expected if n in ran]:
        failures.append(case("order", "ran %s; the manifest's order is %s"
                             % (",".join(ran), ",".join(expected))))
    judged = []
    for node in nodes:
        entry = by_name.get(node.name)
        failure = entry and _entry_failure(entry, node)
        if failure and not node.children:
            # Keep the runner's own reason ("not in the initramfs").
            detail = "%s: %s" % (node.directive, failure) \
                if node.directive else failure
            node = dataclasses.replace(node, ok=False, directive=detail)
        elif failure:
            failures.append(case(node.name, failure))
        judged.append(node)
    return failures, judged
