#!/usr/bin/env python3
"""Replay a qtest-protocol script on qemu-system-x86_64, one command at a
time.

    replay.py QEMU SCRIPT

SCRIPT: "# args: ..." lines give QEMU's arguments (after "-machine
accel=qtest -qtest stdio -display none"); "# expect: REPLY" after a
command is the reply it must get (e.g. "OK 0x0a00"); other "#" lines are
comments; every other line is a qtest command (writel, outl, write,
clock_step...).

Each command is sent after the reply to the previous one, as a qtest does:
QEMU's main loop then runs the device's bottom halves between commands. A
script piped whole into "-qtest stdio" arrives in one read and is run
without them, so a doorbell's transfer would only start at the end.

Exits 0 when QEMU answered every command as expected and then left
cleanly on SIGTERM, 1 when a reply differed, it crashed or stopped
answering (its output and a
sanitizer report, if any, are printed), 2 on a usage error.
"""

import os
import subprocess
import sys
import time

# After the script: a few idle round trips, so that bottom halves and
# timers the last command scheduled run before QEMU is asked to leave.
SETTLE = ["read 0x0 0x1"] * 5
SETTLE_PAUSE = 0.1


def parse(path):
    """QEMU's arguments, the commands, and {command index: expected reply}."""
    args, commands, expect = [], [], {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("# args:"):
                args += line[len("# args:"):].split()
            elif line.startswith("# expect:") and commands:
                expect[len(commands)] = line[len("# expect:"):].strip()
            elif line and not line.startswith("#"):
                commands.append(line)
    return args, commands, expect


def ram_size(args):
    """Bytes of guest RAM that "-m SIZE" gives (QEMU's default: 128 MiB)."""
    size = "128M"
    for flag, value in zip(args, args[1:]):
        if flag == "-m":
            size = value.split(",")[0]
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    if size[-1].upper() in units:
        return int(size[:-1]) * units[size[-1].upper()]
    return int(size) << 20


def beyond_ram(args, commands):
    """The "write" commands (generic-fuzz's DMA fills) beyond guest RAM.

    generic-fuzz backs every address that nothing else claims with its
    sparse-mem device, so a device's DMA there works under the fuzzer;
    a plain QEMU has nothing there, and the replay can take another path.
    """
    ram = ram_size(args)
    return [c for c in commands
            if c.split()[0] == "write" and int(c.split()[1], 16) >= ram]


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    args, commands, expect = parse(sys.argv[2])
    outside = beyond_ram(args, commands)
    if outside:
        print("note: %d DMA fills lie beyond guest RAM (first: %s), where "
              "only generic-fuzz's sparse memory answers: this replay may "
              "not follow the fuzzer's path" % (len(outside), outside[0][:40]))
    qemu = subprocess.Popen(
        [sys.argv[1], "-machine", "accel=qtest", "-qtest", "stdio",
         "-display", "none"] + args,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, errors="replace",
        env=dict(os.environ, ASAN_OPTIONS=os.environ.get(
            "ASAN_OPTIONS", "detect_leaks=0")))
    transcript = []
    for n, command in enumerate(commands + SETTLE, 1):
        if n > len(commands):
            time.sleep(SETTLE_PAUSE)
        try:
            qemu.stdin.write(command + "\n")
            qemu.stdin.flush()
        except BrokenPipeError:
            break
        reply = None
        for line in qemu.stdout:
            transcript.append(line.rstrip("\n"))
            if line.startswith(("OK", "FAIL", "ERR")):
                reply = line
                break
        if reply is None:
            print("QEMU stopped answering at command %d: %s" % (n, command))
            break
        if n in expect and reply.strip() != expect[n]:
            print("command %d, %s: replied %s, expected %s" % (
                n, command, reply.strip(), expect[n]))
            break
    else:
        # qtest's QEMU stays up when its input closes: ask it to leave.
        qemu.terminate()
        rest, _ = qemu.communicate(timeout=60)
        transcript += rest.splitlines()
        if qemu.returncode == 0:
            print("replayed %d commands; QEMU left cleanly" % len(commands))
            return 0
    qemu.kill()
    rest, _ = qemu.communicate()
    transcript += rest.splitlines()
    # From the first sanitizer report on, if there is one.
    first = next((i for i, line in enumerate(transcript)
                  if "==ERROR:" in line or "runtime error:" in line),
                 max(len(transcript) - 60, 0))
    print("\n".join(transcript[first:first + 60]))
    print("QEMU exit status %s" % qemu.returncode)
    return 1


if __name__ == "__main__":
    sys.exit(main())
