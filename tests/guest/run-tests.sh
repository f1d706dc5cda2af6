#!/bin/sh
# Runs in the guest: loads the driver, runs every test program, and prints
# one KTAP document (each program's cases nested under it), then the kernel
# log for the host harness to judge.
#
# Before the first program and after each one it prints a line
#   # totals: PROGRAM foll_pin_acquired=N foll_pin_released=N
#             driver_pages_pinned=N kernel_problems=N
# which the harness checks: pins balance again after every program, the
# driver holds none, and no new kernel problem was logged.
cd /sgdma
# sgdma_tests=a,b (from the kernel command line) runs only those programs,
# sgdma_skip=a,b all but those.
if [ -n "$sgdma_tests" ]; then
    progs=$(echo "$sgdma_tests" | tr , ' ')
else
    progs=$(ls tests | grep -vxF "$(echo "$sgdma_skip" | tr , '\n')")
fi

# Lines a kernel problem starts with (the harness has the full list).
problems='Oops|BUG:|kernel BUG at|WARNING:|Kernel panic|blocked for more than|possible (circular|recursive) locking|UBSAN:|KASAN|general protection fault|soft lockup|hard LOCKUP|refcount_t:|DMA-API:'

totals() {
    echo 1 >/proc/sys/vm/stat_refresh 2>/dev/null
    acq=$(awk '$1 == "nr_foll_pin_acquired" { print $2 }' /proc/vmstat)
    rel=$(awk '$1 == "nr_foll_pin_released" { print $2 }' /proc/vmstat)
    held=0
    for f in /sys/class/sgdma/*/pages_pinned; do
        [ -r "$f" ] && held=$((held + $(cat "$f")))
    done
    warn=$(dmesg | grep -cE "$problems")
    echo "# totals: $1 foll_pin_acquired=${acq:--1} foll_pin_released=${rel:--1} driver_pages_pinned=$held kernel_problems=$warn"
}

# sgdma_debug=1 (the debug kernel's lane) adds the kernel's own checks at
# the end: lockdep, DMA-API debugging, kmemleak, and gup_test's pin cost.
checks=
[ "$sgdma_debug" = 1 ] && checks="gup_pin_cost kmemleak dma_api_debug kmemleak_unloaded lockdep debug_pagealloc"
set -- $progs $checks
echo "KTAP version 1"
echo "1..$(($# + 1))"

if modprobe sgdma; then
    echo "ok 1 module_load"
else
    echo "not ok 1 module_load"
fi
totals start

n=2
for prog in $progs; do
    timeout 300 "tests/$prog" >/tmp/out 2>&1
    status=$?
    sed 's/^/    /' /tmp/out
    if [ $status -eq 0 ]; then
        echo "ok $n $prog"
    else
        echo "not ok $n $prog # exit status $status"
    fi
    totals "$prog"
    n=$((n + 1))
done

. ./debug-checks.sh
for check in $checks; do
    check_$check >/tmp/out 2>&1
    status=$?
    sed 's/^/    # /' /tmp/out
    if [ $status -eq 0 ]; then
        echo "ok $n $check"
    else
        echo "not ok $n $check"
    fi
    n=$((n + 1))
done

echo "# sgdma: kernel log follows"
dmesg | sed 's/^/# kmsg: /'
echo "# sgdma: done"
