#!/bin/bash
# Style checks: the kernel's checkpatch.pl (from linux-source-6.1) on the
# driver and uapi, QEMU's scripts/checkpatch.pl on the device model and
# its qtest. Exit status non-zero on any error or warning.
#   ci/checkpatch.sh [kernel|qemu]   (default: both)
set -euo pipefail
ci=$(dirname "$0")
. "$ci/common.sh"

kernel_checkpatch() {
    local dir=$SGDMA_CACHE/checkpatch-6.1 tarball=/usr/src/linux-source-6.1.tar.xz
    [ -f "$tarball" ] || with_cache_lock apt "$ci/host-deps.sh" linux-source-6.1 >&2
    if [ ! -f "$dir/scripts/checkpatch.pl" ]; then
        rm -rf "$dir" && mkdir -p "$dir"
        tar -xf "$tarball" -C "$dir" --strip-components=1 \
            linux-source-6.1/scripts/checkpatch.pl \
            linux-source-6.1/scripts/spelling.txt \
            linux-source-6.1/scripts/const_structs.checkpatch
    fi
    perl "$dir/scripts/checkpatch.pl" --no-tree --strict --terse \
        --show-types -f "$SGDMA_TOP"/driver/*.[ch] "$SGDMA_TOP"/uapi/*.h
}

qemu_checkpatch() {
    local src
    src=$(ls -d "$SGDMA_CACHE"/qemu/*/src 2>/dev/null | head -n1)
    [ -n "$src" ] || { with_cache_lock qemu "$ci/qemu.sh" default >/dev/null; src=$(ls -d "$SGDMA_CACHE"/qemu/*/src | head -n1); }
    # Relative paths: QEMU's rules depend on where a file lives (tests/).
    (cd "$SGDMA_TOP" && perl "$src/scripts/checkpatch.pl" --no-tree --terse \
        -f qemu-device/*.[ch] tests/qtest/*.c tests/fuzz/*.h)
}

case ${1:-all} in
kernel) kernel_checkpatch ;;
qemu)   qemu_checkpatch ;;
all)    kernel_checkpatch && qemu_checkpatch ;;
*)      die "usage: ci/checkpatch.sh [kernel|qemu]" ;;
esac
