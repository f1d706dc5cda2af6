#!/bin/sh
# Runs in the guest for "make bench": every data path of sgdma ("sgdma
# bench"), the NVMe O_DIRECT peer and memcpy at the same sizes, as CSV
# ("csv: ...", each program's rows after its header line), the same by
# queue depth ("qcsv: ...") with per-transfer latencies ("lat: ..."), then
# the cost breakdown of one pinned transfer ("cost: ..."), then the kernel
# log. Parameters come from the kernel command line:
#   sgdma_bench_sizes=4k,64k,... sgdma_bench_reps=N sgdma_bench_ms=MS
#   sgdma_bench_costs=SIZES (breakdown sizes; empty: none)
#   sgdma_bench_depths=1,4,... sgdma_bench_qd_sizes=4k,... (none: no
#   queue depths) sgdma_bench_mode=qd (only the queue depths and costs)
cd /sgdma/bench
sizes=${sgdma_bench_sizes:-4k,64k,256k,1M,4M,16M,64M}
reps=${sgdma_bench_reps:-5}
ms=${sgdma_bench_ms:-200}
common="-s $sizes -r $reps -t $ms"
sec=$(awk -v ms="$ms" 'BEGIN { printf "%.3f", ms / 1000 }')

# Rows of a program, prefixed; a failing program is reported, not fatal.
#   rows PREFIX NAME COMMAND...
rows() {
    prefix=$1 name=$2
    shift 2
    "$@" >/tmp/rows 2>/tmp/err
    st=$?
    sed "s/^/$prefix: /" /tmp/rows
    [ $st = 0 ] || echo "# error: $name failed: $(head -c 300 /tmp/err)"
}

modprobe sgdma || echo "# error: modprobe sgdma failed"
modprobe nvme || echo "# error: modprobe nvme failed"
for i in 1 2 3 4 5 6 7 8 9 10; do
    [ -b /dev/nvme0n1 ] && break
    sleep 1
done

sgdma_bench() {
    /sgdma/sgdma bench -d /dev/sgdma0 -D all -r "$reps" --rep-time "$sec" \
        -f csv --no-progress "$@"
}

# Queue depths, at each: sgdma's pinned path through libsgdma's queue
# (DEPTH synchronous transfers on as many threads) and registered buffers
# through the driver's own queue, then NVMe O_DIRECT through io_uring,
# each with its per-transfer latencies.
queue_depths() {
    qsizes=${sgdma_bench_qd_sizes:-4k,64k}
    for qd in $(echo "$sgdma_bench_depths" | tr , ' '); do
        rm -f /tmp/lat
        rows qcsv sgdma-qd$qd sgdma_bench -s "$qsizes" -D h2c,c2h \
            -P pinned,registered -q "$qd" -L /tmp/lat
        [ ! -f /tmp/lat ] || sed 's/^/lat: /' /tmp/lat
    done
    [ -b /dev/nvme0n1 ] || return
    rm -f /tmp/lat
    rows qcsv nvme-qd ./sgdma_diobench -s "$qsizes" -r "$reps" \
        -t "$ms" -q "$sgdma_bench_depths" -L /tmp/lat -l nvme-odirect \
        /dev/nvme0n1
    [ ! -f /tmp/lat ] || sed 's/^/lat: /' /tmp/lat
}
if [ "$sgdma_bench_mode" != qd ]; then
    rows csv sgdma sgdma_bench -s "$sizes" -P copy,pinned
    # Buffers the driver holds, size by size: the largest may be more than the
    # DMA layer can map at once (the bounce-buffer pool under swiotlb=force) or
    # more contiguous memory than the kernel has (coherent, without an IOMMU).
    # That is a fact of the configuration, reported, not a failure.
    for path in registered coherent; do
        for size in $(echo "$sizes" | tr , ' '); do
            if sgdma_bench -s "$size" -P $path >/tmp/rows 2>/tmp/err; then
                sed 's/^/csv: /' /tmp/rows
            else
                echo "# note: no $path buffers of $size: $(head -c 200 /tmp/err)"
            fi
        done
    done
    if [ -b /dev/nvme0n1 ]; then
        rows csv nvme ./sgdma_diobench $common -l nvme-odirect /dev/nvme0n1
    else
        echo "# error: no NVMe namespace"
    fi
    rows csv memcpy ./sgdma_membench $common -l memcpy-guest
fi
[ -z "$sgdma_bench_depths" ] || queue_depths

# Cost breakdown: the kernel's function_graph tracer times each step of
# the pinned path (durations include the tracer's own overhead). The sg
# table build is not among them: lib/scatterlist.c has no ftrace hooks.
costs() {
    t=/sys/kernel/tracing
    mount -t tracefs nodev $t 2>/dev/null
    [ -w $t/current_tracer ] || { echo "# error: no tracefs"; return; }
    : >$t/set_ftrace_filter
    for f in sgdma_xfer pin_user_pages_fast \
             dma_map_sgtable dma_sync_sg_for_device sgdma_chan_run \
             dma_sync_sg_for_cpu dma_unmap_sg_attrs \
             unpin_user_pages_dirty_lock; do
        echo $f >>$t/set_ftrace_filter 2>/dev/null ||
            echo "# error: cannot trace $f"
    done
    echo function_graph >$t/current_tracer
    echo funcgraph-tail >$t/trace_options
    echo 8192 >$t/buffer_size_kb
    for size in $(echo "$sgdma_bench_costs" | tr , ' '); do
        # Small transfers vary more from one to the next: more of them.
        case $size in
        *[kK]) iters=200 ;;
        *) iters=10 ;;
        esac
        for dir in h2c c2h; do
            : >$t/trace
            echo 1 >$t/tracing_on
            /sgdma/sgdma bench -d /dev/sgdma0 -s "$size" -P pinned -D $dir \
                -r 1 --warmup 0 --iters $iters -f csv --no-progress \
                >/dev/null
            echo 0 >$t/tracing_on
            # A leaf: " 1)  + 12.345 us   |  pin_user_pages_fast();"
            # a caller's end: " 1)  ! 345.6 us  |  } /* sgdma_xfer [sgdma] */"
            awk -v size="$size" -v dir="$dir" '
                match($0, /[0-9.]+ us/) {
                    us = substr($0, RSTART, RLENGTH - 3)
                    if (match($0, /\| +[a-z_0-9]+( \[[a-z_0-9]+\])?\(\);/))
                        f = substr($0, RSTART, RLENGTH)
                    else if (match($0, /\/\* [a-z_0-9]+( \[[a-z_0-9]+\])? \*\//))
                        f = substr($0, RSTART, RLENGTH)
                    else
                        next
                    gsub(/[|\/*();]|\[[a-z_0-9]+\]/, "", f)
                    gsub(/ /, "", f)
                    sum[f] += us; n[f]++
                }
                END { for (f in sum) printf "cost: %s,%s,%s,%d,%.2f\n",
                        size, dir, f, n[f], sum[f] }' $t/trace
        done
    done
    echo nop >$t/current_tracer
}
echo "cost: size,direction,function,calls,total_us"
[ -z "$sgdma_bench_costs" ] || costs

echo "# sgdma: kernel log follows"
dmesg | sed 's/^/# kmsg: /'
echo "# sgdma: done"
