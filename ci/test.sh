#!/bin/bash
# "make test": build what is missing, then run the qtests and boot the
# matrix: every kernel series of MATRIX below with its cells; ends with one
# summary (per-boot counts, times and pin totals) and "N passed, N failed,
# N skipped"; JUnit XML in build/test-results/junit.xml.
#   ci/test.sh                             the whole matrix
#   KSERIES=6.12 ci/test.sh                every cell of one series
#   CELLS="no-iommu swiotlb" ci/test.sh    those cells of 6.1 (or KSERIES)
#   TESTS="sgdma_data sgdma_rw" ci/test.sh runs only those guest programs
#                                          (and the manifest's "always" ones)
#   HOST=0 ci/test.sh                      skips qtests, host tests and style checks
set -euo pipefail
ci=$(dirname "$0")
. "$ci/common.sh"

# The boot matrix: kernel series (as ci/kernel.sh takes them) and the cells
# each boots ("all": every cell of tests/harness/sgdma_harness.py). Both
# Debian series boot every configuration; the debug kernel, three times
# slower, boots the strict IOMMU.
MATRIX=(
    "6.1:all"
    "6.12:all"
    "debug:iommu-strict"
)

if [ -n "${KSERIES:-}" ]; then
    plan=()
    # The debug kernel's lane boots behind a strict IOMMU unless told.
    for s in $KSERIES; do
        [ "$s" = debug ] && plan+=("$s:${CELLS:-iommu-strict}") ||
            plan+=("$s:${CELLS:-all}")
    done
elif [ -n "${CELLS:-}" ]; then
    plan=("6.1:$CELLS")
else
    plan=("${MATRIX[@]}")
fi

opts=()
for entry in "${plan[@]}"; do
    series=${entry%%:*}
    cells=${entry#*:}
    # Separate from eval, so a failed build stops here.
    built=$("$ci/build.sh" "$series")
    eval "$built"
    opts+=(--series "$series" "$KERNEL" "$INITRD" "$SGDMA_TOP/build/logs/$KVER"
           "$cells")
done
[ -z "${TESTS:-}" ] || opts+=(--tests "$TESTS")
# The qtests run twice: on the normal build and on one with ASan+UBSan.
if [ "${HOST:-1}" != 0 ]; then
    asan=$(with_cache_lock qemu "$ci/qemu.sh" asan)
    opts+=(--qtest "default=$QEMU,$QTEST"
           --qtest "asan=$asan/qemu-system-x86_64,$asan/tests/qtest/sgdma-test"
           --tap-check "libsgdma=$SGDMA_TOP/build/meson/tests/host/test-cli"
           --tap-check "sgdma_cli=$SGDMA_TOP/tests/host/tool-cli.sh $SGDMA_TOP/build/meson"
           --tap-check "pkgconfig=$SGDMA_TOP/tests/host/pkgconfig.sh $SGDMA_TOP/build/meson"
           --check "harness_selftest=python3 -m unittest discover -s $SGDMA_TOP/tests/harness -p 'test_*.py'"
           --check "checkpatch_kernel=$ci/checkpatch.sh kernel"
           --check "checkpatch_qemu=$ci/checkpatch.sh qemu"
           --check "bench_smoke=$ci/bench.sh --smoke")
fi
exec python3 "$SGDMA_TOP/tests/harness/sgdma_harness.py" test \
    --qemu "$QEMU" --logdir "$SGDMA_TOP/build/logs" \
    --junit "$SGDMA_TOP/build/test-results/junit.xml" "${opts[@]}"
