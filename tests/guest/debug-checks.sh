# Sourced by run-tests.sh: the debug kernel's own checks, run after every
# test program when the kernel command line has sgdma_debug=1. Each
# check_NAME prints what it saw and returns non-zero to fail its case; a
# facility the debug kernel should have but does not fails too.

# Lockdep watched the whole run and never turned itself off (it does so
# after its first splat, or when it runs out of room).
check_lockdep() {
    s=/proc/lockdep_stats
    if [ ! -r $s ]; then
        echo "no $s: this kernel has no lockdep"
        return 1
    fi
    grep -E 'lock-classes|direct dependencies|debug_locks' $s
    grep -qE '^ *debug_locks: +1$' $s || { echo "lockdep is off"; return 1; }
}

# DMA-API debugging tracked the driver's mappings, found no error, and
# the driver left none behind when unloaded (an unbind with mappings or
# coherent allocations still live is an error the counter sees).
check_dma_api_debug() {
    d=/sys/kernel/debug/dma-api
    if [ ! -r $d/error_count ]; then
        echo "no $d: this kernel has no DMA-API debugging"
        return 1
    fi
    devs=
    for dev in /sys/bus/pci/drivers/sgdma/*:*; do
        [ -e "$dev" ] && devs="$devs ${dev##*/}"
    done
    live=$(dma_entries $devs)
    idle=$(dma_entries_of sgdma0)
    # Probe alone leaves entries (rings, bounce buffers): what proves the
    # driver's transfers are tracked is the entries of one in flight.
    during=$(dma_entries_in_flight)
    echo "sgdma devices: $(echo $devs); their live DMA-API entries: $live;" \
         "sgdma0's: $idle idle, $during with a pinned transfer in flight"
    if ! modprobe -r sgdma; then
        echo "cannot unload sgdma"
        return 1
    fi
    left=$(dma_entries $devs)
    errors=$(cat $d/error_count)
    echo "after unloading: entries left $left, errors $errors," \
         "disabled $(cat $d/disabled), fewest free entries" \
         "$(cat $d/min_free_entries) of $(cat $d/nr_total_entries)"
    [ "$during" -gt "$idle" ] && [ "$left" = 0 ] && [ "$errors" = 0 ] &&
        [ "$(cat $d/disabled)" = N ]
}

# dma_entries BDF...: the DMA-API debug entries of these PCI functions.
dma_entries() {
    n=0
    for bdf in "$@"; do
        n=$((n + $(grep -c "^$bdf " /sys/kernel/debug/dma-api/dump)))
    done
    echo $n
}

# dma_entries_of sgdmaN: the entries of that device's PCI function.
dma_entries_of() {
    dma_entries "$(basename "$(readlink /sys/class/sgdma/$1/device)")"
}

# The entries of sgdma0 while a pinned transfer is held in flight: the
# device stalls the first transfer of every channel (FAULT_INJECT mode 2),
# the driver gives up on it after 2 s; meanwhile its mappings are counted.
dma_entries_in_flight() {
    inject=/sys/kernel/debug/sgdma/sgdma0/fault_inject
    echo 2000 >/sys/module/sgdma/parameters/timeout_ms
    c=0
    while echo "$c 0x102" >$inject 2>/dev/null; do
        c=$((c + 1))
    done
    /sgdma/sgdma -d 0 read -P pinned -l 1M -O /dev/null >/dev/null 2>&1 &
    sleep 1
    dma_entries_of sgdma0
    wait $!
    c=$((c - 1))
    while [ $c -ge 0 ]; do
        echo "$c 0" >$inject
        c=$((c - 1))
    done
    echo 5000 >/sys/module/sgdma/parameters/timeout_ms
}

# kmemleak: objects younger than 5 s are never reported, and a new object
# needs two scans, hence the wait and the second scan. The first check
# runs with the module loaded, so the report names its functions; it then
# marks what it reported as seen ("clear"), so that the check after
# unloading reports only what the unload revealed (objects that only the
# module's own data pointed to).
kmemleak_scan() {
    k=/sys/kernel/debug/kmemleak
    if [ ! -w $k ]; then
        echo "no $k: this kernel has no kmemleak, or it turned itself off"
        return 1
    fi
    sleep 6
    echo scan >$k && echo scan >$k || { echo "kmemleak scan failed"; return 1; }
    cat $k >/tmp/kmemleak
    echo clear >$k
    sed 's/^/kmemleak: /' /tmp/kmemleak
    echo "kmemleak: $(grep -c '^unreferenced object' /tmp/kmemleak) suspected leaks"
    [ ! -s /tmp/kmemleak ]
}

check_kmemleak() {
    kmemleak_scan
}

check_kmemleak_unloaded() {
    modprobe -r sgdma 2>/dev/null
    kmemleak_scan
}

# gup_test's pin benchmark: the kernel's per-page cost of pinning user
# pages (pin_user_pages_fast) and unpinning them, the yardstick for the
# driver's own pin cost. Figures only: it fails only if it cannot run.
# One CSV row per run:
#   csv: bench,mib,pages_per_call,get_us,put_us,pin_ns_per_page,unpin_ns_per_page
check_gup_pin_cost() {
    t=/sgdma/tools/gup_test
    if [ ! -x $t ] || [ ! -e /sys/kernel/debug/gup_test ]; then
        echo "no gup_test program or no /sys/kernel/debug/gup_test"
        return 1
    fi
    mib=32
    pages=$((mib * 256))
    echo "csv: bench,mib,pages_per_call,get_us,put_us,pin_ns_per_page,unpin_ns_per_page"
    for run in "-a PIN_FAST" "-L PIN_LONGTERM"; do
        set -- $run
        for per_call in 1 16 512; do
            out=$($t "$1" -m $mib -n $per_call -r 3) &&
                echo "$out" | grep -q 'Time: get:' ||
                { echo "gup_test $1 -n $per_call failed: $out"; return 1; }
            # "PIN_FAST_BENCHMARK: Time: get:123 put:45 us", once per repeat
            echo "$out" | sed -n 's/.*Time: get:\([0-9]*\) put:\([0-9]*\) us.*/\1 \2/p' |
            while read get put; do
                echo "csv: $2,$mib,$per_call,$get,$put,$((get * 1000 / pages)),$((put * 1000 / pages))"
            done
        done
    done
}

# debug_pagealloc took effect: freed pages are unmapped from the kernel's
# direct map, so a CPU access to a page after it was freed faults at once.
# The kernel can only do that with the direct map in 4 KiB pages, which
# /proc/meminfo shows.
check_debug_pagealloc() {
    grep -q 'debug_pagealloc=on' /proc/cmdline ||
        { echo "debug_pagealloc=on is not on the command line"; return 1; }
    grep '^DirectMap' /proc/meminfo
    ! grep -qE '^DirectMap(2M|1G): +[1-9]' /proc/meminfo
}
