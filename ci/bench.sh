#!/bin/bash
# "make bench": build what is missing, then measure every data path in one
# run per DMA configuration (see tests/bench/sgdma_bench.py).
#   ci/bench.sh [--smoke] [sgdma_bench.py options]
# Results: build/bench/<kernel>/ (report.md, results.csv, costs.csv,
# throughput.png), or BENCH_OUT.
set -euo pipefail
ci=$(dirname "$0")
. "$ci/common.sh"

built=$("$ci/build.sh" "${KSERIES:-6.1}")
eval "$built"
out=${BENCH_OUT:-$SGDMA_TOP/build/bench/$KVER}
[ "${1:-}" != --smoke ] || out=$SGDMA_TOP/build/bench-smoke/$KVER
exec python3 "$SGDMA_TOP/tests/bench/sgdma_bench.py" \
    --qemu "$QEMU" --kernel "$KERNEL" --initrd "$INITRD" \
    --membench "$SGDMA_TOP/build/meson/tests/bench/sgdma_membench" \
    --out "$out" "$@"
