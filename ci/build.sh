#!/bin/bash
# Build everything a guest boot needs, each step only if its inputs changed,
# and print the results as shell assignments for eval:
#   QEMU QTEST KERNEL KVER INITRD
#
#   ci/build.sh [KSERIES [QEMU]]
#       KSERIES: 6.1 (default), 6.12, debug (the debug kernel built by
#       ci/kernel-debug.sh), or ksrc (the kernel tree $KSRC names, make's
#       KSRC=, see ci/kernel-ksrc.sh); QEMU: the QEMU line
#       (ci/qemu-versions), 7.2 or 10.0, default $SGDMA_QEMU (make's QEMU=)
#       or 7.2
set -euo pipefail
ci=$(dirname "$0")
. "$ci/common.sh"

series=${1:-6.1}
qemu_line=${2:-${SGDMA_QEMU:-7.2}}
out=$SGDMA_TOP/build
mkdir -p "$out"

with_cache_lock apt "$ci/host-deps.sh" >&2
qemu_build=$(with_cache_lock qemu "$ci/qemu.sh" default "$qemu_line")
# KVER, KTREE (kernel image and modules), KDIR (to build modules against)
case $series in
debug) kernel=$(with_cache_lock kernel-debug "$ci/kernel-debug.sh") ;;
ksrc)  [ -n "${KSRC:-}" ] || die "series ksrc: KSRC=<kernel tree> needed"
       kernel=$("$ci/kernel-ksrc.sh" "$KSRC") ;;
*)     kernel=$(with_cache_lock kernel "$ci/kernel.sh" "$series") ;;
esac
eval "$kernel"
kver=$KVER

# The module is built in a copy that keeps the repo's driver/ + uapi/
# layout, one per kernel, so kernels never share objects.
kmod=$out/kmod-$kver
for f in "$SGDMA_TOP"/driver/* "$SGDMA_TOP"/uapi/*.h; do
    install_if_changed "$f" "$kmod/${f#"$SGDMA_TOP"/}"
done
log "building the module for $kver"
make -C "$KDIR" M="$kmod/driver" modules \
    >"$kmod/build.log" 2>&1 || { cat "$kmod/build.log" >&2; die "module build failed"; }

log "building user space"
[ -f "$out/meson/build.ninja" ] || meson setup "$out/meson" "$SGDMA_TOP" >&2
ninja -C "$out/meson" >&2

initrd=$out/initramfs-$kver.cpio.gz
"$ci/initramfs.sh" "$initrd" "$KTREE" "$kver" \
    "$kmod/driver/sgdma.ko" "$out/meson"

cat <<EOT
QEMU=$qemu_build/qemu-system-x86_64
QTEST=$qemu_build/tests/qtest/sgdma-test
KVER=$kver
KERNEL=$KTREE/boot/vmlinuz-$kver
INITRD=$initrd
EOT
