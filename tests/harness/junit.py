# SPDX-License-Identifier: GPL-2.0-or-later
"""JUnit XML of a run, for the test reporters of GitLab, Jenkins and
GitHub: one <testsuite> per boot and per host check or qtest group, each
case a <testcase> with its <failure> or <skipped> and message, a boot's
console as the suite's <system-out>, retries as suite properties.
"""

import os
import re
import xml.etree.ElementTree as ET

# Characters XML 1.0 cannot carry; a console can hold any byte.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd]")


def _text(s):
    return _NOT_XML.sub("\ufffd", s)


def _testcase(suite, case):
    """A <testcase>: its name without the suite's prefix."""
    name = case.name
    prefix = suite.name + ": "
    if name.startswith(prefix):
        name = name[len(prefix):]
    el = ET.Element("testcase", name=_text(name), classname=_text(suite.name))
    if not case.ok:
        ET.SubElement(el, "failure", message=_text(case.detail or "failed"))
    elif case.skipped:
        ET.SubElement(el, "skipped", message=_text(case.detail))
    return el


def _testsuite(suite):
    failures = sum(not c.ok for c in suite.cases)
    skipped = sum(c.ok and c.skipped for c in suite.cases)
    el = ET.Element("testsuite", name=_text(suite.name),
                    tests=str(len(suite.cases)), failures=str(failures),
                    errors="0", skipped=str(skipped),
                    time="%.1f" % suite.seconds)
    if suite.properties:
        props = ET.SubElement(el, "properties")
        for key, value in suite.properties.items():
            ET.SubElement(props, "property", name=key, value=_text(str(value)))
    el.extend(_testcase(suite, c) for c in suite.cases)
    if suite.output:
        ET.SubElement(el, "system-out").text = _text(suite.output)
    return el


def write(path, suites):
    """Write the run's @suites to @path (its directory created)."""
    cases = [c for s in suites for c in s.cases]
    root = ET.Element("testsuites", tests=str(len(cases)),
                      failures=str(sum(not c.ok for c in cases)),
                      skipped=str(sum(c.ok and c.skipped for c in cases)))
    root.extend(_testsuite(s) for s in suites)
    ET.indent(root)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
