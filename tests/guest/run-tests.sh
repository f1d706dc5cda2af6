#!/bin/sh
# Runs in the guest: loads the driver, runs exactly the programs and checks
# that sgdma_tests (from the kernel command line; the harness derives it
# from tests/guest/manifest) lists, in that order, and prints one KTAP
# document (each program's cases nested under it), then the kernel log for
# the host harness to judge. What to run is never what happens to be in
# the initramfs: a listed program that is not there is a failure,
#   not ok N PROG # not in the initramfs
# and nothing unlisted runs.
#
# A name is a check of debug-checks.sh if it defines check_NAME, else a
# program in tests/. Before the first program and after each one it prints
#   # totals: PROGRAM foll_pin_acquired=N foll_pin_released=N
#             driver_pages_pinned=N driver_pages_leaked=N kernel_problems=N
# which the harness checks: pins balance again after every program (but
# for the pages the driver leaked on purpose, from a device that would not
# stop), the driver holds none, and no new kernel problem was logged; a
# counter that cannot be read is -1, which fails.
cd /sgdma
. ./debug-checks.sh

# Lines a kernel problem starts with (the harness has the full list).
problems='Oops|BUG:|kernel BUG at|WARNING:|Kernel panic|blocked for more than|possible (circular|recursive) locking|UBSAN:|KASAN|general protection fault|soft lockup|hard LOCKUP|refcount_t:|DMA-API:'

# driver_sum ATTR: ATTR summed over every sgdma device, -1 if unreadable.
driver_sum() {
    sum=0
    for f in /sys/class/sgdma/*/"$1"; do
        [ -e "$f" ] || continue
        v=$(cat "$f") || v=
        case $v in
        ''|*[!0-9]*) echo -1; return ;;
        esac
        sum=$((sum + v))
    done
    echo $sum
}

totals() {
    echo 1 >/proc/sys/vm/stat_refresh 2>/dev/null
    acq=$(awk '$1 == "nr_foll_pin_acquired" { print $2 }' /proc/vmstat)
    rel=$(awk '$1 == "nr_foll_pin_released" { print $2 }' /proc/vmstat)
    held=$(driver_sum pages_pinned)
    # Leaks are for good, but their counter goes with its device (removal,
    # module reload): report the most ever seen.
    now_leaked=$(driver_sum pages_leaked)
    leaked=${leaked:-0}
    if [ "$now_leaked" -lt 0 ]; then
        leaked=-1
    elif [ "$leaked" -ge 0 ] && [ "$now_leaked" -gt "$leaked" ]; then
        leaked=$now_leaked
    fi
    warn=$(dmesg | grep -cE "$problems")
    [ -n "$warn" ] || warn=-1
    echo "# totals: $1 foll_pin_acquired=${acq:--1} foll_pin_released=${rel:--1} driver_pages_pinned=$held driver_pages_leaked=$leaked kernel_problems=$warn"
}

# run NAME COMMAND...: runs one program or check, its output indented.
# A program's KTAP nests under its result; a check's output is comment.
# Its output comes once it ended: the line before it names what runs, for
# the harness to say where a boot that never ended was.
run() {
    name=$1 indent=$2
    shift 2
    echo "# sgdma: running $name"
    "$@" >/tmp/out 2>&1
    status=$?
    sed "s/^/$indent/" /tmp/out
    if [ $status -eq 0 ]; then
        echo "ok $n $name"
    else
        echo "not ok $n $name # exit status $status"
    fi
}

set -- $(echo "$sgdma_tests" | tr , ' ')
echo "KTAP version 1"
echo "1..$(($# + 1))"
[ $# -gt 0 ] || echo "Bail out! no sgdma_tests= on the kernel command line"

# Enabling a trace event also starts recording task names, which hooks the
# scheduler's sched_switch tracepoint: the kernel patches a jump in
# __schedule, code both vCPUs run all the time, and multi-threaded TCG
# (QEMU 7.2) can then run a stale translation holding the int3 of that
# patch ("Oops: int3" in __schedule, seen on 6.12 while sgdma_faults
# toggled its trace). The tests read only the events they enable, never
# task names: with this off, enabling them patches their own call sites.
echo 0 >/sys/kernel/debug/tracing/options/record-cmd 2>/dev/null

if modprobe sgdma; then
    echo "ok 1 module_load"
else
    echo "not ok 1 module_load"
fi
totals start

n=2
for name; do
    if type "check_$name" >/dev/null 2>&1; then
        run "$name" '    # ' "check_$name"
    elif [ -f "tests/$name" ]; then
        run "$name" '    ' timeout 300 "tests/$name"
        totals "$name"
    else
        echo "not ok $n $name # not in the initramfs"
        totals "$name"
    fi
    n=$((n + 1))
done

echo "# sgdma: kernel log follows"
dmesg | sed 's/^/# kmsg: /'
echo "# sgdma: done"
