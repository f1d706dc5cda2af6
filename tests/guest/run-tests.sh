#!/bin/sh
# Runs in the guest: loads the driver, runs every test program, and prints
# one KTAP document (each program's cases nested under it), then the kernel
# log for the host harness to judge.
cd /sgdma
# sgdma_tests=a,b (from the kernel command line) runs only those programs.
if [ -n "$sgdma_tests" ]; then
    progs=$(echo "$sgdma_tests" | tr , ' ')
else
    progs=$(ls tests)
fi
# sgdma_debug=1 (the debug kernel's lane) adds the kernel's own checks at
# the end: lockdep, DMA-API debugging, kmemleak, and gup_test's pin cost.
checks=
[ "$sgdma_debug" = 1 ] && checks="gup_pin_cost kmemleak dma_api_debug kmemleak_unloaded lockdep"
set -- $progs $checks
echo "KTAP version 1"
echo "1..$(($# + 1))"

if modprobe sgdma; then
    echo "ok 1 module_load"
else
    echo "not ok 1 module_load"
fi

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
