#!/bin/bash
# Build the debug guest kernel: Debian's linux-source-6.1 (the default
# guest's series), tinyconfig plus ci/sgdma-kernel.config (what the suite
# needs of any kernel) plus ci/debug-kernel.config (the kernel's bug
# detectors: DMA-API debugging, KASAN, kmemleak, lockdep, UBSAN, fault
# injection, gup_test), through ccache; then use it as any kernel tree of
# one's own is used (make test KSRC=..., ci/kernel-ksrc.sh).
#
#   ci/kernel-debug.sh
# Prints what ci/kernel-ksrc.sh prints for the tree:
#   KVER     kernel release (e.g. 6.1.192-sgdma-debug)
#   KTREE    the installed kernel: boot/vmlinuz-$KVER, lib/modules/$KVER,
#            sgdma/gup_test (the kernel's gup_test selftest, static)
#   KDIR     the build tree, to build external modules against
# Cached under $SGDMA_CACHE/kernel-debug/<source version>/<config hash>/,
# so a second call with the same source and fragments only checks.
set -euo pipefail
ci=$(dirname "$0")
. "$ci/common.sh"

fragments=("$SGDMA_TOP/ci/sgdma-kernel.config" "$SGDMA_TOP/ci/debug-kernel.config")
tarball=/usr/src/linux-source-6.1.tar.xz
# linux-source-6.1 for the tree; the rest is what a kernel build needs
# (objtool wants libelf, certs want libssl).
deps=(linux-source-6.1 bc bison flex libelf-dev libssl-dev cpio kmod rsync)
with_cache_lock apt "$ci/host-deps.sh" "${deps[@]}" >&2
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
[ -f "$tarball" ] || die "linux-source-6.1 is installed but has no $tarball"

root=$SGDMA_CACHE/kernel-debug/$srcver
src=$root/src
if [ ! -f "$src/.sgdma-unpacked" ]; then
    log "unpacking linux-source-6.1 $srcver"
    rm -rf "$src" "$src.tmp"
    mkdir -p "$src.tmp"
    tar -xf "$tarball" -C "$src.tmp" --strip-components=1
    touch "$src.tmp/.sgdma-unpacked"
    mv "$src.tmp" "$src"
fi

# One build per fragments and recipe: bump recipe when the steps below
# change what gets built.
recipe=2
key=$( (echo "recipe $recipe"; cat "${fragments[@]}") | sha256sum | cut -c1-12)
obj=$root/$key/build
tree=$root/$key/install
# Same inputs, same bytes: fixed build identity, so ccache hits across
# build directories and a rebuild yields the same kernel.
kmake=(make -C "$src" O="$obj" -j"$(nproc)" CC="ccache gcc"
       KBUILD_BUILD_TIMESTAMP="$srcver" KBUILD_BUILD_USER=sgdma
       KBUILD_BUILD_HOST=sgdma KBUILD_BUILD_VERSION=1)
export CCACHE_BASEDIR=$root CCACHE_NOHASHDIR=1 CCACHE_SLOPPINESS=time_macros

if [ ! -f "$obj/.sgdma-built" ]; then
    start=$SECONDS
    mkdir -p "$obj"
    log "configuring the debug kernel ($srcver, fragments $key)"
    "${kmake[@]}" -s tinyconfig >"$obj/config.log" 2>&1
    "$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" \
        "${fragments[@]}" >>"$obj/config.log" 2>&1
    "${kmake[@]}" -s olddefconfig >>"$obj/config.log" 2>&1
    # A requested option that Kconfig dropped (a missing dependency) would
    # be a detector that silently never fires: refuse to build.
    bad=0
    while IFS='=' read -r opt want; do
        got=$(sed -n "s/^$opt=//p" "$obj/.config")
        if [ "$got" != "$want" ]; then
            log "$opt=$want requested, the config has '${got:-unset}'"
            bad=1
        fi
    done < <(cat "${fragments[@]}" | grep -E '^CONFIG_[A-Z0-9_]+=')
    while read -r opt; do
        if grep -q "^$opt=" "$obj/.config"; then
            log "$opt requested off, the config has it on"
            bad=1
        fi
    done < <(cat "${fragments[@]}" | sed -n 's/^# \(CONFIG_[A-Z0-9_]*\) is not set$/\1/p')
    [ $bad = 0 ] || die "the fragments did not survive olddefconfig"

    log "building the debug kernel in $obj (log: $obj/build.log)"
    "${kmake[@]}" bzImage modules >"$obj/build.log" 2>&1 ||
        { grep -B5 -A10 -m5 -E 'error|Error' "$obj/build.log" >&2; die "debug kernel build failed"; }
    touch "$obj/.sgdma-built"
    log "debug kernel built in $((SECONDS - start)) s"
fi
# Builds of other fragments (other checkouts, older commits) are dropped
# once unused for a week; using a build marks it used.
touch "$root/$key"
find "$root" -mindepth 1 -maxdepth 1 -type d -name '????????????' \
    ! -name "$key" -mtime +7 -exec rm -rf {} + 2>/dev/null || true
"$ci/kernel-ksrc.sh" "$obj" "$tree"
