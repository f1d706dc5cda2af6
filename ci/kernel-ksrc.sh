#!/bin/bash
# A kernel tree of your own as the guest kernel (make test KSRC=...): a
# configured and built tree, in place or an O= build directory, with
# ci/sgdma-kernel.config merged (README.md "Your own kernel"). The debug
# lane's kernel (ci/kernel-debug.sh) comes through here too.
#
#   ci/kernel-ksrc.sh KSRC [STAGE]
# Installs the tree's bzImage, .config and modules into STAGE (default
# build/ksrc/<release>/ of this checkout) as a distribution package would
# lay them out, again only when the tree was rebuilt, and prints shell
# assignments for eval, like ci/kernel.sh:
#   KVER     the tree's kernel release
#   KTREE    STAGE: boot/vmlinuz-$KVER, boot/config-$KVER, lib/modules/$KVER,
#            sgdma/gup_test when the tree has CONFIG_GUP_TEST
#   KDIR     KSRC, to build external modules against
# The harness reads boot/config-$KVER to know which cells the kernel can
# boot and what its boots provide (tests/harness/kconfig.py).
set -euo pipefail
ci=$(dirname "$0")
. "$ci/common.sh"

[ $# -ge 1 ] && [ -n "$1" ] || die "usage: ci/kernel-ksrc.sh KSRC [STAGE]"
[ -d "$1" ] || die "KSRC=$1: no such directory"
ksrc=$(cd "$1" && pwd)
need() { [ -e "$ksrc/$1" ] || die "KSRC=$ksrc has no $1: $2"; }
need .config "configure it with ci/sgdma-kernel.config merged (README.md)"
need include/config/kernel.release "build it: make bzImage modules"
need arch/x86/boot/bzImage "build it: make bzImage modules"
need Module.symvers "build its modules too (make modules): the sgdma module links against them"
grep -q '^CONFIG_MODULES=y' "$ksrc/.config" ||
    die "KSRC=$ksrc: CONFIG_MODULES is off, the sgdma module cannot load"
kver=$(cat "$ksrc/include/config/kernel.release")
stage=${2:-$SGDMA_TOP/build/ksrc/$kver}

# What was built last: staged again when any of these changed.
stamp=$(cd "$ksrc" && stat -c '%n %s %Y' arch/x86/boot/bzImage .config \
        Module.symvers modules.order 2>/dev/null || true)
if [ "$(cat "$stage/.sgdma-staged" 2>/dev/null)" != "$stamp" ]; then
    log "installing $kver from $ksrc into $stage"
    rm -rf "$stage"
    mkdir -p "$stage/boot"
    # modules_install also runs depmod, so the initramfs can resolve the
    # modules the guest needs with their dependencies.
    make -C "$ksrc" -s INSTALL_MOD_PATH="$stage" modules_install \
        >"$stage/install.log" 2>&1 ||
        { tail -n 20 "$stage/install.log" >&2; die "modules_install of $ksrc failed"; }
    cp "$ksrc/arch/x86/boot/bzImage" "$stage/boot/vmlinuz-$kver"
    cp "$ksrc/.config" "$stage/boot/config-$kver"
    # The kernel's gup_test selftest, which the debug checks drive
    # (/sys/kernel/debug/gup_test), when the kernel has it.
    if grep -q '^CONFIG_GUP_TEST=y' "$ksrc/.config"; then
        src=$ksrc
        [ ! -e "$ksrc/source" ] || src=$(readlink -f "$ksrc/source")
        st=$src/tools/testing/selftests
        vm=$st/mm
        [ -f "$vm/gup_test.c" ] || vm=$st/vm
        mkdir -p "$stage/sgdma"
        gcc -O2 -static -pthread -I"$src" -I"$st" -I"$vm" \
            -o "$stage/sgdma/gup_test" "$vm/gup_test.c" ||
            die "cannot build $vm/gup_test.c"
    fi
    echo "$stamp" >"$stage/.sgdma-staged"
fi
cat <<EOT
KVER=$kver
KTREE=$stage
KDIR=$ksrc
EOT
