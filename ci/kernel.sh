#!/bin/bash
# Fetch a Debian guest kernel image (extracted, not installed) and install
# its matching headers on the host for building the module.
#
#   ci/kernel.sh [SERIES]   SERIES: 6.1 (default) or 6.12
# Prints shell assignments for eval (as ci/kernel-debug.sh does):
#   KVER   the kernel release (e.g. 6.1.0-56-amd64)
#   KTREE  the extracted package: boot/vmlinuz-$KVER, lib/modules/$KVER
#   KDIR   the installed headers, to build external modules against
set -euo pipefail
. "$(dirname "$0")/common.sh"

series=${1:-6.1}
case $series in
6.1) meta=linux-image-amd64 ;;
*)   meta=linux-image-$series-amd64 ;;
esac

# The meta package names the current image; follow it, never hard-code it.
pkg=$(apt-cache depends "$meta" 2>/dev/null |
      sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1)
[ -n "$pkg" ] || die "cannot resolve a kernel image from $meta"
kver=${pkg#linux-image-}
case $kver in
"$series".*) ;;
*) die "$meta resolved to $kver, not series $series" ;;
esac

dir=$SGDMA_CACHE/kernel/$kver
if [ ! -f "$dir/boot/vmlinuz-$kver" ]; then
    log "fetching $pkg"
    rm -rf "$dir.dl" "$dir"
    mkdir -p "$dir.dl"
    (cd "$dir.dl" && apt-get download -q "$pkg" >/dev/null)
    dpkg-deb -x "$dir.dl"/*.deb "$dir.dl/root"
    mv "$dir.dl/root" "$dir"
    rm -rf "$dir.dl"
fi
[ -f "$dir/boot/vmlinuz-$kver" ] || die "no kernel image in $pkg"
# The package ships no modules.dep (installing makes it); the initramfs
# needs it to pick modules with their dependencies.
[ -f "$dir/lib/modules/$kver/modules.dep" ] || depmod -b "$dir" "$kver"

with_cache_lock apt "$(dirname "$0")/host-deps.sh" "linux-headers-$kver" >&2
cat <<EOT
KVER=$kver
KTREE=$dir
KDIR=/usr/src/linux-headers-$kver
EOT
