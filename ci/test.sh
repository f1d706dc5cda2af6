#!/bin/bash
# "make test": build what is missing, then run the qtests and boot every
# cell of the matrix; ends with "N passed, N failed".
#   CELLS="no-iommu swiotlb" ci/test.sh    boots only those cells
#   TESTS="sgdma_data sgdma_rw" ci/test.sh runs only those guest programs
#   HOST=0 ci/test.sh                      skips qtests, host tests and style checks
set -euo pipefail
ci=$(dirname "$0")
. "$ci/common.sh"

# Separate from eval, so a failed build stops here.
built=$("$ci/build.sh" "${KSERIES:-6.1}")
eval "$built"
opts=()
for c in ${CELLS:-}; do opts+=(--cell "$c"); done
[ -z "${TESTS:-}" ] || opts+=(--append "sgdma_tests=$(echo $TESTS | tr ' ' ,)")
# The qtests run twice: on the normal build and on one with ASan+UBSan.
if [ "${HOST:-1}" != 0 ]; then
    asan=$(with_cache_lock qemu "$ci/qemu.sh" asan)
    opts+=(--qtest "default=$QEMU,$QTEST"
           --qtest "asan=$asan/qemu-system-x86_64,$asan/tests/qtest/sgdma-test"
           --tap-check "libsgdma=$SGDMA_TOP/build/meson/tests/host/test-cli"
           --tap-check "sgdma_cli=$SGDMA_TOP/tests/host/tool-cli.sh $SGDMA_TOP/build/meson"
           --tap-check "pkgconfig=$SGDMA_TOP/tests/host/pkgconfig.sh $SGDMA_TOP/build/meson"
           --check "checkpatch_kernel=$ci/checkpatch.sh kernel"
           --check "checkpatch_qemu=$ci/checkpatch.sh qemu"
           --check "bench_smoke=$ci/bench.sh --smoke")
fi
exec python3 "$SGDMA_TOP/tests/harness/sgdma_harness.py" test \
    --qemu "$QEMU" --kernel "$KERNEL" --initrd "$INITRD" \
    --logdir "$SGDMA_TOP/build/logs/$KVER" "${opts[@]}"
