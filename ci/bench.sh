#!/bin/bash
# "make bench": build what is missing, then measure every data path in one
# run per DMA configuration (see tests/bench/sgdma_bench.py).
#   ci/bench.sh [--smoke] [sgdma_bench.py options]
# BENCH=qd: only the queue depths (one boot, no-iommu), in build/bench-qd/.
# CELLS="a b": boot only these cells.
# Results: build/bench/<kernel>/ (report.md, results.csv, costs.csv,
# qd-results.csv, qd-latency.csv, throughput.png), or BENCH_OUT.
set -euo pipefail
ci=$(dirname "$0")
. "$ci/common.sh"

built=$("$ci/build.sh" "${KSERIES:-6.1}")
eval "$built"
part=()
case "${BENCH:-}" in
"") out=$SGDMA_TOP/build/bench/$KVER ;;
qd) out=$SGDMA_TOP/build/bench-qd/$KVER part=(--qd) ;;
*)  echo "ci/bench.sh: BENCH=$BENCH: only qd (or nothing: all)" >&2; exit 2 ;;
esac
for cell in ${CELLS:-}; do
    part+=(--cell "$cell")
done
[ "${1:-}" != --smoke ] || out=$SGDMA_TOP/build/bench-smoke/$KVER part=()
out=${BENCH_OUT:-$out}
exec python3 "$SGDMA_TOP/tests/bench/sgdma_bench.py" \
    --qemu "$QEMU" --kernel "$KERNEL" --initrd "$INITRD" \
    --membench "$SGDMA_TOP/build/meson/tests/bench/sgdma_membench" \
    --out "$out" "${part[@]}" "$@"
