# SPDX-License-Identifier: GPL-2.0-or-later
"""What a guest kernel's .config lets its boots provide.

A kernel's config sits beside its image as packages and ci/kernel-ksrc.sh
install them (boot/config-KVER beside boot/vmlinuz-KVER). From it the
harness decides which cells the kernel can boot at all (a cell whose
options are missing is reported skipped, naming them, never dropped) and
what the series adds to every boot: a kernel with the debug fragment's
detectors (ci/debug-kernel.config) boots as the debug lane does. A kernel
without a config beside it is taken at its series label's word.
"""

import os

# The options each feature needs of the kernel ("y" or "m"): the cell's
# features, and "disk", "hotplug" and "aer" (sgdma_aer's error recovery)
# that every boot has. Keep in step
# with ci/sgdma-kernel.config.
CELL_NEEDS = {
    "hotplug": ["CONFIG_HOTPLUG_PCI_PCIE"],
    "aer": ["CONFIG_PCIEAER"],
    "disk": ["CONFIG_BLOCK", "CONFIG_VIRTIO_PCI", "CONFIG_VIRTIO_BLK",
             "CONFIG_EXT4_FS"],
    "iommu": ["CONFIG_INTEL_IOMMU", "CONFIG_IRQ_REMAP", "CONFIG_VFIO_PCI",
              "CONFIG_VFIO_IOMMU_TYPE1"],
    "ats": ["CONFIG_PCI_ATS"],
    "bounce": ["CONFIG_SWIOTLB"],
    "high-memory": ["CONFIG_SWIOTLB"],
}
EVERY_CELL_NEEDS = ["disk", "hotplug", "aer"]

# Features a kernel series adds to each of its boots, and what they need.
SERIES_NEEDS = {
    "fault-injection": ["CONFIG_FAULT_INJECTION_DEBUG_FS", "CONFIG_FAILSLAB",
                        "CONFIG_FAIL_PAGE_ALLOC",
                        "CONFIG_FAULT_INJECTION_USERCOPY"],
    "kernel-debug": ["CONFIG_DMA_API_DEBUG", "CONFIG_KASAN",
                     "CONFIG_DEBUG_KMEMLEAK", "CONFIG_PROVE_LOCKING"],
}

# How a kernel with the detectors boots: more memory and time (KASAN,
# kmemleak, lockdep under TCG); page poisoning (a device writing to a page
# after it was freed shows when the page is next allocated);
# debug_pagealloc (a CPU touching a freed page faults at once); the
# kmalloc caches marked as the ones failslab may fail (sgdma_failinject).
DEBUG_SETTINGS = {"memory": 1024, "timeout": 1500}
DEBUG_APPEND = [("CONFIG_PAGE_POISONING", "page_poison=1"),
                ("CONFIG_DEBUG_PAGEALLOC", "debug_pagealloc=on"),
                ("CONFIG_FAILSLAB", "slub_debug=A,kmalloc-*")]


def config_path(kernel):
    """The config beside kernel image @kernel (.../vmlinuz-KVER), or None."""
    head, name = os.path.split(kernel or "")
    if not name.startswith("vmlinuz-"):
        return None
    path = os.path.join(head, "config-" + name[len("vmlinuz-"):])
    return path if os.path.isfile(path) else None


def load(path):
    """{option: value} of the options set in .config @path."""
    options = {}
    with open(path) as f:
        for line in f:
            name, eq, value = line.strip().partition("=")
            if eq and name.startswith("CONFIG_"):
                options[name] = value
    return options


def missing(options, names):
    return [n for n in names if options.get(n) not in ("y", "m")]


def series_settings(options):
    """What a kernel of @options adds to each boot: the SERIES_SETTINGS
    entry of sgdma_harness.py."""
    provides = [f for f, needs in SERIES_NEEDS.items()
                if not missing(options, needs)]
    settings = {"provides": provides}
    if "kernel-debug" in provides:
        settings.update(DEBUG_SETTINGS)
        words = [w for opt, w in DEBUG_APPEND if options.get(opt) == "y"]
        settings["append"] = [" ".join(words)] if words else []
    return settings


def cell_unmet(options, provides):
    """{feature: [missing options]} for a cell providing @provides."""
    unmet = {}
    for feature in EVERY_CELL_NEEDS + list(provides):
        gone = missing(options, CELL_NEEDS.get(feature, []))
        if gone:
            unmet[feature] = gone
    return unmet


def skip_detail(unmet):
    """The reason a boot of a cell with @unmet needs is skipped."""
    return "SKIP needs=%s: the kernel's config lacks %s" % (
        ",".join(unmet), ", ".join(sorted({o for opts in unmet.values()
                                           for o in opts})))
