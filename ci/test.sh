#!/bin/bash
# "make test": build what is missing, then run the qtests and boot every
# cell of the matrix; ends with "N passed, N failed".
#   CELLS="no-iommu swiotlb" ci/test.sh    boots only those cells
#   TESTS="sgdma_data sgdma_rw" ci/test.sh runs only those guest programs
#   HOST=0 ci/test.sh                      skips qtests and style checks
set -euo pipefail
ci=$(dirname "$0")
. "$ci/common.sh"

# The debug kernel's lane boots behind a strict IOMMU unless told otherwise.
[ "${KSERIES:-6.1}" != debug ] || CELLS=${CELLS:-iommu-strict}
# Separate from eval, so a failed build stops here.
built=$("$ci/build.sh" "${KSERIES:-6.1}")
eval "$built"
series_opts "${KSERIES:-6.1}"
opts=("${SERIES_OPTS[@]}")
for c in ${CELLS:-}; do opts+=(--cell "$c"); done
[ -z "${TESTS:-}" ] || opts+=(--append "sgdma_tests=$(echo $TESTS | tr ' ' ,)")
# The qtests run twice: on the normal build and on one with ASan+UBSan.
if [ "${HOST:-1}" != 0 ]; then
    asan=$(with_cache_lock qemu "$ci/qemu.sh" asan)
    opts+=(--qtest "default=$QEMU,$QTEST"
           --qtest "asan=$asan/qemu-system-x86_64,$asan/tests/qtest/sgdma-test"
           --check "checkpatch_kernel=$ci/checkpatch.sh kernel"
           --check "checkpatch_qemu=$ci/checkpatch.sh qemu")
fi
exec python3 "$SGDMA_TOP/tests/harness/sgdma_harness.py" test \
    --qemu "$QEMU" --kernel "$KERNEL" --initrd "$INITRD" \
    --logdir "$SGDMA_TOP/build/logs/$KVER" "${opts[@]}"
