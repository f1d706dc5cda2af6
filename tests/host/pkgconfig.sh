#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The installed library as a user gets it: "meson install" into a staging
# directory (or a root the Debian packages were unpacked into), then
# docs/examples/sgdma-example.c built with nothing but pkg-config --cflags
# --libs, shared and static, as C and as C++. Prints TAP.
#
#   tests/host/pkgconfig.sh MESON_BUILD_DIR
#   tests/host/pkgconfig.sh --root DIR      (ci/packages.sh)
set -u
usage="usage: $0 MESON_BUILD_DIR | --root DIR"
top=$(cd "$(dirname "$0")/../.." && pwd)
example=$top/docs/examples/sgdma-example.c
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
n=0 failed=0
if [ "${1:-}" = --root ]; then
    root=$(cd "${2:?$usage}" && pwd) build= plan=9
else
    build=$(cd "${1:?$usage}" && pwd) root=$stage/root plan=10
fi

ok() {
    n=$((n + 1))
    if [ "$1" = 0 ]; then
        echo "ok $n $2"
    else
        failed=$((failed + 1))
        sed 's/^/#   /' "$stage/log" 2>/dev/null | tail -15
        echo "not ok $n $2"
    fi
}

# step NAME CMD...: runs CMD with its output in the log, one TAP case.
step() {
    local name=$1
    shift
    "$@" >"$stage/log" 2>&1
    ok $? "$name"
}

echo "TAP version 13"
echo "1..$plan"
[ -z "$build" ] ||
    step install meson install -C "$build" --no-rebuild --quiet --destdir "$root"
pc=$(find "$root" -name libsgdma.pc | head -1)
export PKG_CONFIG_PATH=${pc%/*} PKG_CONFIG_SYSROOT_DIR=$root
export PKG_CONFIG_LIBDIR=${pc%/*}
[ -n "$pc" ]
ok $? pc_installed

inc=$(pkg-config --variable=includedir libsgdma)
[ -f "$inc/sgdma/libsgdma.h" ] && [ -f "$inc/sgdma/sgdma.h" ] &&
    pkg-config --cflags libsgdma | grep -q -- "-I$inc/sgdma"
ok $? headers_installed

libdir=$(pkg-config --variable=libdir libsgdma)
{ readelf -d "$libdir/libsgdma.so" | grep "SONAME.*\[libsgdma\.so\.0\]" &&
  [ -L "$libdir/libsgdma.so.0" ] && [ -f "$libdir/libsgdma.a" ]; } >"$stage/log" 2>&1
ok $? soname_and_static

step build_shared cc -Wall -Wextra -Werror "$example" \
    $(pkg-config --cflags --libs libsgdma) -o "$stage/ex"
readelf -d "$stage/ex" 2>&1 | grep -q "NEEDED.*\[libsgdma\.so\.0\]"
ok $? links_shared

# Without a device the example must fail cleanly, with libsgdma's message.
LD_LIBRARY_PATH=$libdir "$stage/ex" /nonexistent/sgdma0 >"$stage/log" 2>&1
st=$?
[ $st = 1 ] && grep -q "no such sgdma device node" "$stage/log"
ok $? runs_shared

step build_static cc -Wall -Wextra -Werror -static "$example" \
    $(pkg-config --static --cflags --libs libsgdma) -o "$stage/ex-static"
"$stage/ex-static" /nonexistent/sgdma0 >"$stage/log" 2>&1
[ $? = 1 ] && grep -q "no such sgdma device node" "$stage/log" &&
    ! readelf -d "$stage/ex-static" 2>/dev/null | grep -q NEEDED
ok $? runs_static

cp "$example" "$stage/ex.cpp"
step build_cxx c++ -Wall -Wextra -Werror "$stage/ex.cpp" \
    $(pkg-config --cflags --libs libsgdma) -o "$stage/ex-cxx"

echo "# $((n - failed)) passed, $failed failed"
[ "$failed" = 0 ] && [ "$n" = "$plan" ]
