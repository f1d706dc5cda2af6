#!/bin/bash
# "make test": build what is missing, then run the qtests and boot every
# cell of the matrix; ends with "N passed, N failed".
#   CELLS="no-iommu swiotlb" ci/test.sh    runs only those cells
set -euo pipefail
ci=$(dirname "$0")
. "$ci/common.sh"

# Separate from eval, so a failed build stops here.
built=$("$ci/build.sh" "${KSERIES:-6.1}")
eval "$built"
# The qtests run twice: on the normal build and on one with ASan+UBSan.
asan=$(with_cache_lock qemu "$ci/qemu.sh" asan)
cells=()
for c in ${CELLS:-}; do cells+=(--cell "$c"); done
exec python3 "$SGDMA_TOP/tests/harness/sgdma_harness.py" test \
    --qtest "default=$QEMU,$QTEST" \
    --qtest "asan=$asan/qemu-system-x86_64,$asan/tests/qtest/sgdma-test" \
    --qemu "$QEMU" --kernel "$KERNEL" --initrd "$INITRD" \
    --logdir "$SGDMA_TOP/build/logs/$KVER" "${cells[@]}" \
    --check "checkpatch_kernel=$ci/checkpatch.sh kernel" \
    --check "checkpatch_qemu=$ci/checkpatch.sh qemu"
