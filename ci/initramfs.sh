#!/bin/bash
# Assemble the guest initramfs: busybox, our init and scripts, the module,
# the sgdma tool and every guest test program.
#
#   ci/initramfs.sh OUTPUT.cpio.gz KERNEL_TREE KVER MODULE.ko MESON_BUILD_DIR
# KERNEL_TREE is the extracted kernel package (its lib/modules/KVER), or
# the debug kernel's install tree (also sgdma/: programs for the guest).
set -euo pipefail
. "$(dirname "$0")/common.sh"

out=$1 ktree=$2 kver=$3 module=$4 meson=$5
guest=$SGDMA_TOP/tests/guest
stage=$(mktemp -d)
# The image's root as on any system: mktemp's 0700 would keep every user
# but root out of the whole tree (sgdma_tool drops to nobody).
chmod 755 "$stage"
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage"/{bin,dev,proc,sys,tmp,sgdma/tests,sgdma/bench}
cp /bin/busybox "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
# The kernel opens /dev/console before init can mount devtmpfs.
mknod -m 600 "$stage/dev/console" c 5 1
cp "$guest/init" "$stage/init"
cp "$guest/run-tests.sh" "$guest/debug-checks.sh" "$guest/demo.sh" \
   "$meson/userlib/sgdma" \
   "$stage/sgdma/"

# Install the module as the kernel would, so modprobe and lspci -k work.
moddir=$stage/lib/modules/$kver
mkdir -p "$moddir/extra"
cp "$ktree/lib/modules/$kver"/modules.{builtin,builtin.modinfo,order} "$moddir/"
cp "$module" "$moddir/extra/"
# Modules of the kernel's own tree the guest tests and benchmarks use, with
# what they depend on (sgdma_filemap: virtio-blk and ext4 for the boot's
# disk). Built in, or missing, none is copied: a kernel that lacks one
# (the debug kernel has no NVMe) fails or skips the programs that need it,
# and the harness skips cells its config cannot boot.
for m in ${GUEST_MODULES:-vfio-pci vfio_iommu_type1 nvme virtio_pci virtio_blk ext4}; do
    deps=$(modprobe -d "$ktree" -S "$kver" --show-depends "$m" 2>/dev/null) ||
        { log "$kver has no module $m"; continue; }
    for ko in $(echo "$deps" | awk '$1 == "insmod" { print $2 }'); do
        install -D -m 644 "$ko" "$stage${ko#"$ktree"}"
    done
done
depmod -b "$stage" "$kver"
# Programs that come with the kernel (the debug kernel's gup_test).
if [ -d "$ktree/sgdma" ]; then
    mkdir -p "$stage/sgdma/tools"
    cp "$ktree"/sgdma/* "$stage/sgdma/tools/"
fi
for t in "$meson"/tests/guest/sgdma_*; do
    [ -f "$t" ] && [ -x "$t" ] && cp "$t" "$stage/sgdma/tests/"
done
[ -n "$(ls "$stage/sgdma/tests")" ] || die "no guest test programs in $meson"
cp "$SGDMA_TOP/tests/bench/bench.sh" "$stage/sgdma/"
for b in sgdma_diobench sgdma_membench sgdma_perfregs; do
    cp "$meson/tests/bench/$b" "$stage/sgdma/bench/"
done

# The real lspci (busybox has none), with the libraries it loads.
copy_with_libs() {
    local lib
    install -D "$1" "$stage$1"
    for lib in $(ldd "$1" | grep -o '/[^ ]*'); do
        [ -e "$stage$lib" ] || install -D "$(readlink -f "$lib")" "$stage$lib"
    done
}
copy_with_libs /usr/bin/lspci
ln -s ../usr/bin/lspci "$stage/bin/lspci"
[ -f /usr/share/misc/pci.ids ] && install -D -m 644 /usr/share/misc/pci.ids \
    "$stage/usr/share/misc/pci.ids"

(cd "$stage" && find . -print0 | LC_ALL=C sort -z |
     cpio --null -o -H newc --quiet | gzip -1 >"$out.tmp")
mv -f "$out.tmp" "$out"
