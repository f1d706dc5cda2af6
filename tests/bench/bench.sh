#!/bin/sh
# Runs in the guest for "make bench": every data path of sgdma ("sgdma
# bench"), the NVMe O_DIRECT peer and memcpy at the same sizes, as CSV
# ("csv: ...", each program's rows after its header line), the same by
# queue depth ("qcsv: ...") with per-transfer latencies ("lat: ..."),
# registered ones again without interrupt coalescing, the device's
# counters around registered runs at the deepest depth ("qperf: ",
# "qperfcsv: ") and the guest's context switches and interrupts an
# operation there, registered against NVMe ("qguest: "),
# polled against interrupt-driven completion at depth 1 ("pcsv: ",
# "plat: "), the device's counters around a depth-1 run ("perf: ",
# "perfcsv: "), then the cost breakdown of one pinned transfer ("cost: ...")
# and its overlap ("ovl: ..."), then the kernel log. Parameters come from
# the kernel command line:
#   sgdma_bench_sizes=4k,64k,... sgdma_bench_reps=N sgdma_bench_ms=MS
#   sgdma_bench_costs=SIZES (breakdown sizes; empty: none)
#   sgdma_bench_depths=1,4,... sgdma_bench_qd_sizes=4k,... (none: no
#   queue depths) sgdma_bench_mode=qd (only the queue depths and costs)
#   sgdma_bench_poll_sizes=512,4k,... (none: no polled mode)
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

# The registered queue at depth $2 again, with an interrupt for every
# completion (coalesce_max 1): what coalescing is worth, in the same run.
# Its rows' path is "registered-1irq".
uncoalesced() {
    param=/sys/module/sgdma/parameters/coalesce_max
    max=$(cat $param 2>/dev/null) || {
        echo "# error: the driver has no coalesce_max parameter"
        return
    }
    echo 1 >$param
    rm -f /tmp/lat
    sgdma_bench -s "$1" -D h2c,c2h -P registered -q "$2" -L /tmp/lat \
        >/tmp/rows 2>/tmp/err ||
        echo "# error: sgdma bench (registered-1irq) failed: $(head -c 300 /tmp/err)"
    echo "$max" >$param
    sed -E -e 's/^registered,/registered-1irq,/' -e 's/^/qcsv: /' /tmp/rows
    [ ! -f /tmp/lat ] ||
        sed -E -e 's/^registered,/registered-1irq,/' -e 's/^/lat: /' /tmp/lat
}

# The device's counters around registered 4 KiB runs at depth $1, with
# the driver's coalescing and without ("qperf: PATH,DIR,DEPTH,<before>,
# <after>" beside their figures, "qperfcsv: "): what the device spends per
# descriptor when the ring is deep.
queue_device_perf() {
    param=/sys/module/sgdma/parameters/coalesce_max
    max=$(cat $param 2>/dev/null)
    for path in registered registered-1irq; do
        [ $path = registered ] || echo 1 >$param
        for dir in h2c c2h; do
            before=$(./sgdma_perfregs /dev/sgdma0 2>/tmp/err | tail -n 1)
            sgdma_bench -s 4k -D $dir -P registered -q "$1" >/tmp/rows \
                2>/tmp/err ||
                echo "# error: sgdma bench (qperf $path $dir) failed: $(head -c 300 /tmp/err)"
            after=$(./sgdma_perfregs /dev/sgdma0 2>/tmp/err | tail -n 1)
            if [ -z "$before" ] || [ -z "$after" ]; then
                echo "# error: sgdma_perfregs: $(head -c 300 /tmp/err)"
                continue
            fi
            sed -E -e "s/^registered,/$path,/" -e 's/^/qperfcsv: /' /tmp/rows
            echo "qperf: $path,$dir,$1,$before,$after"
        done
    done
    [ -z "$max" ] || echo "$max" >$param
}

# The guest's context switches and interrupts (/proc/stat) around runs of
# 4 KiB at depth $1, both directions: the driver's queue on registered
# buffers, then NVMe O_DIRECT through io_uring, with the operations each
# timed ("qguest: PATH,DEPTH,OPS,<ctxt>,<intr> before,<ctxt>,<intr>
# after"): what an operation costs the guest.
guest_counters() {
    awk '$1 == "ctxt" { c = $2 } $1 == "intr" { i = $2 }
         END { print c "," i }' /proc/stat
}
queue_guest_cost() {
    for path in registered nvme-odirect; do
        rm -f /tmp/glat
        before=$(guest_counters)
        if [ $path = registered ]; then
            sgdma_bench -s 4k -D h2c,c2h -P registered -q "$1" -L /tmp/glat
        else
            ./sgdma_diobench -s 4k -r "$reps" -t "$ms" -q "$1" -L /tmp/glat \
                -l nvme-odirect /dev/nvme0n1
        fi >/dev/null 2>/tmp/err || {
            echo "# error: $path (qguest) failed: $(head -c 300 /tmp/err)"
            continue
        }
        after=$(guest_counters)
        # The latency rows' "ops" column: the operations timed.
        ops=$(awk -F, 'NR > 1 { n += $5 } END { print n + 0 }' /tmp/glat)
        echo "qguest: $path,$1,$ops,$before,$after"
    done
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
        uncoalesced "$qsizes" "$qd"
    done
    queue_device_perf "${sgdma_bench_depths##*,}"
    [ -b /dev/nvme0n1 ] || return
    rm -f /tmp/lat
    rows qcsv nvme-qd ./sgdma_diobench -s "$qsizes" -r "$reps" \
        -t "$ms" -q "$sgdma_bench_depths" -L /tmp/lat -l nvme-odirect \
        /dev/nvme0n1
    [ ! -f /tmp/lat ] || sed 's/^/lat: /' /tmp/lat
    queue_guest_cost "${sgdma_bench_depths##*,}"
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

# Polled completion (SGDMA_XFER_POLL) against the interrupt at depth 1, on
# the copy and pinned paths. Interrupt-driven means poll_threshold 0 (no
# transfer polls without the flag) for the time of the measurement.
poll_modes() {
    param=/sys/module/sgdma/parameters
    if [ ! -e $param/poll_us ]; then
        echo "# poll: absent (the driver has no poll_us parameter)"
        return
    fi
    threshold=$(cat $param/poll_threshold 2>/dev/null)
    echo 0 >$param/poll_threshold ||
        echo "# error: cannot set poll_threshold to 0"
    for mode in irq poll; do
        flag=
        [ $mode = irq ] || flag=--poll
        rm -f /tmp/lat
        sgdma_bench -s "$sgdma_bench_poll_sizes" -D h2c,c2h -P copy,pinned \
            -L /tmp/lat $flag >/tmp/rows 2>/tmp/err ||
            echo "# error: sgdma bench ($mode) failed: $(head -c 300 /tmp/err)"
        sed -E -e "s/^(copy|pinned),/\1-$mode,/" -e 's/^/pcsv: /' /tmp/rows
        [ ! -f /tmp/lat ] ||
            sed -E -e "s/^(copy|pinned),/\1-$mode,/" -e 's/^/plat: /' /tmp/lat
    done
    [ -z "$threshold" ] || echo "$threshold" >$param/poll_threshold
}
[ -z "$sgdma_bench_poll_sizes" ] || poll_modes

# The device's time per descriptor (its PERF_* counters, read before and
# after a depth-1 4 KiB pinned run in each direction) beside that run's
# latency. A device without the counters reads zeros: the host tells.
perf_counters() {
    for dir in h2c c2h; do
        before=$(./sgdma_perfregs /dev/sgdma0 2>/tmp/err | tail -n 1)
        [ -n "$before" ] ||
            { echo "# error: sgdma_perfregs: $(head -c 300 /tmp/err)"; return; }
        sgdma_bench -s 4k -D $dir -P pinned >/tmp/rows 2>/tmp/err ||
            echo "# error: sgdma bench (perf $dir) failed: $(head -c 300 /tmp/err)"
        after=$(./sgdma_perfregs /dev/sgdma0 2>/tmp/err | tail -n 1)
        [ -n "$after" ] ||
            { echo "# error: sgdma_perfregs: $(head -c 300 /tmp/err)"; return; }
        sed 's/^/perfcsv: /' /tmp/rows
        echo "perf: $dir,$before,$after"
    done
}
echo "perf: direction,descs,wait_us,move_us,bh_runs,irqs,descs_after,wait_us_after,move_us_after,bh_runs_after,irqs_after"
perf_counters

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
        echo $f >>$t/set_ftrace_filter 2>/dev/null && continue
        # A driver whose channel keeps many descriptors in flight has no
        # call that runs one: the events give the device's time instead.
        if [ $f = sgdma_chan_run ]; then
            echo "# note: no $f in this driver (the events time the device)"
        else
            echo "# error: cannot trace $f"
        fi
    done
    echo function_graph >$t/current_tracer
    echo funcgraph-tail >$t/trace_options
    # Timestamps and the driver's submit/complete events, for the overlap.
    echo funcgraph-abstime >$t/trace_options
    for e in sgdma_submit sgdma_complete; do
        echo 1 >$t/events/sgdma/$e/enable ||
            echo "# error: no tracepoint $e"
    done
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
                /\/\* sgdma_[a-z]+: / { next }    # an event
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
            overlap "$size" "$dir" <$t/trace
        done
    done
    echo nop >$t/current_tracer
    echo 0 >$t/events/sgdma/enable
}

# How much of the pinning and mapping the device's work hid, from the same
# trace: per sgdma_xfer call, its wall time (entry to return), the time in
# pin_user_pages_fast and dma_map_sgtable, the device's time: the union
# of its descriptors' intervals from sgdma_submit to sgdma_complete (several
# in flight overlap each other), and how much of the pinning and mapping
# fell inside that union (hidden). Sums over the calls:
#   ovl: size,direction,calls,wall_us,pin_us,map_us,device_us,hidden_us
# A line: "  12.345678 |   1)  + 12.345 us   |  pin_user_pages_fast();",
# "... |  sgdma_xfer [sgdma]() {", "... |  } /* sgdma_xfer [sgdma] */",
# "... |  /* sgdma_submit: sgdma0 ch=0 index=3 cookie=0x4 ... */".
overlap() {
    awk -v size="$1" -v dir="$2" '
        # The union of the device intervals s[]/e[] into u[]/v[] (nu):
        # its length.
        function device(   i, j, t, busy) {
            for (i = 2; i <= ni; i++)       # by start time
                for (j = i; j > 1 && s[j - 1] > s[j]; j--) {
                    t = s[j]; s[j] = s[j - 1]; s[j - 1] = t
                    t = e[j]; e[j] = e[j - 1]; e[j - 1] = t
                }
            nu = 0; busy = 0
            for (i = 1; i <= ni; i++) {
                if (nu && s[i] <= v[nu]) {
                    if (e[i] > v[nu]) v[nu] = e[i]
                } else {
                    nu++; u[nu] = s[i]; v[nu] = e[i]
                }
            }
            for (i = 1; i <= nu; i++)
                busy += v[i] - u[i]
            return busy
        }
        # Of the pin and map intervals a[]/b[] (nh), the time inside u/v.
        function inside(   i, j, lo, hi, t) {
            t = 0
            for (i = 1; i <= nh; i++)
                for (j = 1; j <= nu; j++) {
                    lo = a[i] > u[j] ? a[i] : u[j]
                    hi = b[i] < v[j] ? b[i] : v[j]
                    if (hi > lo) t += hi - lo
                }
            return t
        }
        function dur() {
            return match($0, /[0-9.]+ us/) ? substr($0, RSTART, RLENGTH - 3) : 0
        }
        function key(   m) {
            match($0, /sgdma[0-9]+ ch=[0-9]+ /); m = substr($0, RSTART, RLENGTH)
            match($0, /cookie=[0-9a-fx]+/)
            return m substr($0, RSTART, RLENGTH)
        }
        # A step: a leaf line is stamped at its entry, a closing "}" at
        # its return.
        function step(   d) {
            d = dur(); nh++
            a[nh] = /}/ ? ts - d : ts; b[nh] = a[nh] + d
            return d
        }
        { ts = $1 * 1e6 }
        /\/\* sgdma_submit: / { sub_at[key()] = ts; next }
        /\/\* sgdma_complete: / {
            k = key()
            if (inx && (k in sub_at)) { ni++; s[ni] = sub_at[k]; e[ni] = ts }
            delete sub_at[k]; next
        }
        /sgdma_xfer( \[sgdma\])?\(\) \{/ {
            inx = 1; start = ts; ni = 0; nh = 0; next
        }
        /\/\* sgdma_xfer( \[sgdma\])? \*\// {
            if (!inx) next
            calls++; wall += ts - start; dev += device(); hid += inside()
            inx = 0; next
        }
        inx && /pin_user_pages_fast/ && /[0-9.]+ us/ { pin += step() }
        inx && /dma_map_sgtable/ && /[0-9.]+ us/ { map += step() }
        END { printf "ovl: %s,%s,%d,%.2f,%.2f,%.2f,%.2f,%.2f\n",
              size, dir, calls, wall, pin, map, dev, hid }'
}
echo "cost: size,direction,function,calls,total_us"
echo "ovl: size,direction,calls,wall_us,pin_us,map_us,device_us,hidden_us"
[ -z "$sgdma_bench_costs" ] || costs

echo "# sgdma: kernel log follows"
dmesg | sed 's/^/# kmsg: /'
echo "# sgdma: done"
