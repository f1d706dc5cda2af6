#!/bin/bash
# Fetch Debian's QEMU source, put the sgdma device into it and build
# qemu-system-x86_64 (and the sgdma qtest) with a minimal configure.
#
#   ci/qemu.sh [default|asan]     prints the build directory on stdout
set -euo pipefail
. "$(dirname "$0")/common.sh"

flavour=${1:-default}
case $flavour in
default) extra=() ;;
asan)    extra=(--enable-sanitizers) ;;
*)       die "unknown QEMU flavour '$flavour'" ;;
esac

# The source is keyed by the Debian version apt would hand us.
srcver=$(apt-cache showsrc qemu 2>/dev/null | sed -n 's/^Version: //p' | sort -V | tail -n1)
[ -n "$srcver" ] || die "apt has no source for qemu (run ci/host-deps.sh)"
qroot=$SGDMA_CACHE/qemu/${srcver//:/_}  # no colons: configure refuses them
src=$qroot/src

if [ ! -f "$src/.sgdma-unpacked" ]; then
    log "fetching QEMU source $srcver"
    rm -rf "$qroot/dl" "$src"
    mkdir -p "$qroot/dl"
    (cd "$qroot/dl" && apt-get source -q "qemu=$srcver" >/dev/null)
    mv "$qroot/dl"/qemu-*/ "$src"
    rm -rf "$qroot/dl"
    touch "$src/.sgdma-unpacked"
fi

# Wire the device in: hw/sgdma is a link to our qemu-device/, the qtest a
# link to ours; three one-line hooks into QEMU's build files.
ln -sfn "$SGDMA_TOP/qemu-device" "$src/hw/sgdma"
ln -sfn "$SGDMA_TOP/tests/qtest/sgdma-test.c" "$src/tests/qtest/sgdma-test.c"
add_line_after() { # file anchor-line new-line (both literal)
    grep -qxF "$3" "$1" && return
    ANCHOR=$2 LINE=$3 awk '{ print } !done && $0 == ENVIRON["ANCHOR"] {
        print ENVIRON["LINE"]; done = 1 }' "$1" >"$1.sgdma" && mv "$1.sgdma" "$1"
}
add_line_after "$src/hw/meson.build" "subdir('misc')" "subdir('sgdma')"
add_line_after "$src/hw/Kconfig" "source misc/Kconfig" "source sgdma/Kconfig"
add_line_after "$src/meson.build" "    'hw/misc'," "    'hw/sgdma',"
add_line_after "$src/tests/qtest/meson.build" "qtests_pci = \\" \
    "  (config_all_devices.has_key('CONFIG_SGDMA') ? ['sgdma-test'] : []) + \\"
for f in hw/meson.build hw/Kconfig meson.build tests/qtest/meson.build; do
    grep -q sgdma "$src/$f" || die "could not hook sgdma into $f"
done

build=$qroot/build-$flavour
conf=(--target-list=x86_64-softmmu --disable-docs --disable-tools
      --disable-user --disable-werror --without-default-features
      --enable-fdt=system
      --firmwarepath=/usr/share/qemu:/usr/share/seabios --cc="ccache gcc" --cxx="ccache g++"
      "${extra[@]}")
if [ ! -f "$build/build.ninja" ] || [ "$(cat "$build/.sgdma-conf" 2>/dev/null)" != "${conf[*]}" ]; then
    log "configuring QEMU ($flavour)"
    rm -rf "$build"
    mkdir -p "$build"
    (cd "$build" && "$src/configure" "${conf[@]}" >configure.log 2>&1) ||
        { tail -n 30 "$build/configure.log" >&2; die "QEMU configure failed"; }
    echo "${conf[*]}" >"$build/.sgdma-conf"
fi
log "building QEMU ($flavour) in $build"
ninja -C "$build" qemu-system-x86_64 tests/qtest/sgdma-test >"$build/ninja.log" 2>&1 ||
    { grep -A20 -m5 -E 'error|FAILED' "$build/ninja.log" >&2; die "QEMU build failed"; }
# Run from its build tree, QEMU looks for firmware under qemu-bundle/ +
# --firmwarepath: point that at Debian's seabios and qemu-system-data.
for fw in /usr/share/qemu /usr/share/seabios; do
    mkdir -p "$build/qemu-bundle$(dirname "$fw")"
    ln -sfn "$fw" "$build/qemu-bundle$fw"
done
echo "$build"
