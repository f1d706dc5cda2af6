#!/bin/bash
# "make run" / "make shell": build what is missing and boot the guest with
# the device, either showing a round trip through driver and device (run)
# or leaving an interactive shell (shell).
set -euo pipefail
ci=$(dirname "$0")
. "$ci/common.sh"

mode=${1:-run}
# KSRC=<kernel tree>: that kernel (ci/kernel-ksrc.sh), unless KSERIES says.
series=${KSERIES:-6.1}
[ -z "${KSRC:-}" ] || series=${KSERIES:-ksrc}
# Separate from eval, so a failed build stops here.
built=$("$ci/build.sh" "$series")
eval "$built"
exec python3 "$SGDMA_TOP/tests/harness/sgdma_harness.py" "$mode" \
    --qemu "$QEMU" --kernel "$KERNEL" --initrd "$INITRD" \
    --series-label "$series" --logdir "$SGDMA_TOP/build/logs/$KVER"
