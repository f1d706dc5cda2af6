#!/usr/bin/env python3
"""Write the seed corpus of the sgdma generic-fuzz targets.

Each seed is one scenario of tests/qtest/sgdma-test.c, written by hand in
the input format of QEMU's generic-fuzz (tests/qtest/fuzz/generic_fuzz.c):
commands separated by "FUZZ", the first byte of each the opcode. The
fuzzer does not read guest memory from the input: every DMA read of guest
RAM is filled with the next DMA pattern, so a seed queues its descriptor,
segment list and data as patterns, in the order the device reads them,
and then programs channel registers as the qtest does.

    seeds.py DIR        writes DIR/<scenario> for every scenario
"""

import os
import struct
import sys

SEPARATOR = b"FUZZ"
OP_READ, OP_WRITE, OP_PCI_WRITE, OP_ADD_DMA_PATTERN, OP_CLOCK_STEP = (
    2, 3, 5, 7, 9)
LONG = 2                  # generic-fuzz's access sizes: Byte, Word, Long, Quad
REGS = 0                  # BAR0 is the lowest of the device's MMIO regions

# Guest RAM the scenarios use (generic-fuzz gives the guest 512 MiB)
RING, COMPL, DATA, LIST = 0x100000, 0x110000, 0x200000, 0x300000
UNUSED = 0xd0000000       # q35's PCI hole, where nothing is mapped
PCI_BAR2 = 0x18

# docs/device-spec.md, sections 4 and 5
CHAN_BASE, CHAN_STRIDE = 0x1000, 0x100
RING_LO, RING_HI, RING_SIZE, COMPL_LO, COMPL_HI = 0x00, 0x04, 0x08, 0x0C, 0x10
CTRL, STATUS, DOORBELL, HEAD, COALESCE, FAULT_INJECT = (
    0x14, 0x18, 0x1C, 0x20, 0x24, 0x30)
GLOBAL_CTRL = 0x034
CTRL_ENABLE, CTRL_RESET, CTRL_IRQ_ENABLE = 1, 2, 4
H2C, C2H, H2H, FILL = 1, 2, 3, 4
FLAG_CRC, FLAG_IRQ, FLAG_SRC_LIST, FLAG_DST_LIST = 1, 2, 4, 8


def write(offset, value):
    return struct.pack("<BBBxxIQ", OP_WRITE, LONG, REGS, offset, value)


def read(offset):
    return struct.pack("<BBBxxI", OP_READ, LONG, REGS, offset)


def pci_write(offset, value):
    """A 32-bit write to the function's configuration space."""
    return struct.pack("<BBBBxI", OP_PCI_WRITE, LONG, 0, offset, value)


def pattern(data):
    """Queue data for the next DMA read (index 0, stride 0: repeated as is)."""
    return struct.pack("<BBB", OP_ADD_DMA_PATTERN, 0, 0) + data


def clock_step():
    return bytes([OP_CLOCK_STEP])


def descriptor(opcode, length, src, src_n, dst, dst_n, flags=FLAG_IRQ,
               fill=0, cookie=0x5347):
    return struct.pack("<BBHIQQIIQIIQQ", opcode, flags, 0, length, cookie,
                       src, src_n, 0, dst, dst_n, 0, fill, 0)


def segment_list(*segments):
    return b"".join(struct.pack("<QII", addr, n, 0) for addr, n in segments)


def channel_setup(chan=0, size=4, irq=True):
    base = CHAN_BASE + chan * CHAN_STRIDE
    return [write(base + RING_LO, RING), write(base + RING_HI, 0),
            write(base + RING_SIZE, size), write(base + COMPL_LO, COMPL),
            write(base + COMPL_HI, 0),
            write(base + CTRL, CTRL_ENABLE | (CTRL_IRQ_ENABLE if irq else 0))]


def ring(chan=0, doorbell=1):
    base = CHAN_BASE + chan * CHAN_STRIDE
    return [write(base + DOORBELL, doorbell), clock_step(), clock_step(),
            read(base + STATUS), read(base + HEAD)]


def transfer(desc, *more_patterns, chan=0, extra=()):
    return ([pattern(desc)] + [pattern(p) for p in more_patterns] +
            channel_setup(chan) + list(extra) + ring(chan))


DATA_4K = bytes(range(256)) * 16
SCENARIOS = {
    "h2c": transfer(descriptor(H2C, 4096, DATA, 4096, 0, 0), DATA_4K),
    "c2h": transfer(descriptor(C2H, 4096, 0, 0, DATA, 4096)),
    "h2h-crc": transfer(descriptor(H2H, 4096, DATA, 4096, DATA + 0x10000,
                                   4096, flags=FLAG_IRQ | FLAG_CRC), DATA_4K),
    "fill": transfer(descriptor(FILL, 8192, 0, 0, DATA, 8192,
                                fill=0x0123456789abcdef)),
    "h2c-list": transfer(descriptor(H2C, 8192, LIST, 2, 0, 0,
                                    flags=FLAG_IRQ | FLAG_SRC_LIST),
                         segment_list((DATA, 4096), (DATA + 0x3000, 4096)),
                         DATA_4K),
    "c2h-list": transfer(descriptor(C2H, 6144, 0, 0, LIST, 2,
                                    flags=FLAG_IRQ | FLAG_DST_LIST),
                         segment_list((DATA, 2048), (DATA + 0x1000, 4096))),
    "dma-error": transfer(descriptor(H2C, 4096, DATA, 4096, 0, 0), DATA_4K,
                          extra=[write(CHAN_BASE + FAULT_INJECT, 1 | 1 << 8)]),
    "coalesce": transfer(descriptor(H2H, 512, DATA, 512, DATA + 0x1000, 512),
                         DATA_4K,
                         extra=[write(CHAN_BASE + COALESCE, 4 | 50 << 16)]),
    "last-channel": transfer(descriptor(C2H, 256, 0, 0, DATA, 256), chan=3),
    "reset-in-flight": (transfer(descriptor(H2C, 65536, DATA, 65536, 0, 0),
                                 DATA_4K) +
                        [write(GLOBAL_CTRL, 1), read(CHAN_BASE + STATUS)]),
    "channel-reset": (transfer(descriptor(C2H, 4096, 0, 0, DATA, 4096)) +
                      [write(CHAN_BASE + CTRL, CTRL_RESET),
                       read(CHAN_BASE + STATUS)]),
    "bad-ring": channel_setup(size=3) + [read(CHAN_BASE + STATUS)],
    # qtest /sgdma/self-target, with the BAR moved after the check: an H2C
    # from an unused address, then BAR2 (the card) moved onto it before
    # the data moves (with latency set, the link model's wait).
    "self-target-bar-moved": (
        [pattern(descriptor(H2C, 4096, UNUSED, 4096, 0x800, 0))] +
        channel_setup() + [write(CHAN_BASE + DOORBELL, 1),
                           pci_write(PCI_BAR2, UNUSED), pci_write(PCI_BAR2 + 4, 0),
                           clock_step(), clock_step(),
                           read(CHAN_BASE + STATUS)]),
}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    os.makedirs(sys.argv[1], exist_ok=True)
    for name, commands in SCENARIOS.items():
        with open(os.path.join(sys.argv[1], name), "wb") as f:
            f.write(SEPARATOR.join(commands))


if __name__ == "__main__":
    main()
