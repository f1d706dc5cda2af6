#!/bin/bash
# The Debian packages and DKMS, as a distribution user meets them: build the
# packages from the repository's files with dpkg-buildpackage, check them
# with lintian (no errors, no warnings), unpack them into a throw-away
# root, use the library there through pkg-config and run the tool, and
# build the driver through DKMS from the packaged source against a guest
# kernel's headers.
# Prints TAP, one case per step, and the DKMS-built module's path.
#
#   ci/packages.sh            the checks; TAP on stdout, ending with
#                             "# module: PATH" (the DKMS-built sgdma.ko)
#   ci/packages.sh --initrd   only the package build and DKMS (TAP on
#                             stderr), then the 6.1 guest's initramfs with
#                             the DKMS-built module; prints what ci/build.sh
#                             6.1 prints (QEMU QTEST KVER KERNEL INITRD), for
#                             eval, with this INITRD, and MODULE
#
# Everything is written under build/packages/: the copy of the files the
# packages are built from (sgdma-VERSION/, with the .deb files beside it),
# root/ (the packages unpacked) and dkms/ (DKMS's tree). The packages are
# rebuilt only when a file of the checkout changed; the rest runs each time.
set -uo pipefail
ci=$(dirname "$0")
. "$ci/common.sh"

mode=${1:-}
case $mode in
"" | --initrd) ;;
*) die "usage: $0 [--initrd]" ;;
esac
# In --initrd mode stdout carries the assignments only.
if [ "$mode" = --initrd ]; then
    exec 3>&1 1>&2
fi

series=6.1
out=$SGDMA_TOP/build/packages
root=$out/root
log=$out/step.log
mkdir -p "$out"

with_cache_lock apt "$ci/host-deps.sh" debhelper dh-dkms dkms lintian \
    pandoc >&2 || die "cannot install the packaging tools"
kernel=$(with_cache_lock kernel "$ci/kernel.sh" "$series") ||
    die "no $series kernel"
eval "$kernel"

version=$(meson introspect --projectinfo "$SGDMA_TOP/meson.build" |
          python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
libdir=/usr/lib/$multiarch

n=0 failed=0 blocked=
ok() {
    n=$((n + 1))
    if [ "$1" = 0 ]; then
        echo "ok $n $2"
    else
        failed=$((failed + 1))
        tail -n 25 "$log" | sed 's/^/#   /'
        echo "not ok $n $2"
        return 1
    fi
}
# step NAME CMD...: one case, CMD's output in the log. Once a gate (the
# packages built, then unpacked) fails, the steps after it fail unrun.
step() {
    local name=$1
    shift
    if [ -n "$blocked" ]; then
        n=$((n + 1)) failed=$((failed + 1))
        echo "not ok $n $name # not run: $blocked failed"
        return 1
    fi
    "$@" >"$log" 2>&1
    ok $? "$name"
}
gate() {
    step "$@" || blocked=${blocked:-$1}
}

# prints [-F] PATTERN CMD...: CMD succeeds and prints a line matching
# PATTERN. Its whole output is taken before the search: under pipefail,
# "CMD | grep -q" fails when grep stops reading at the match while CMD
# still writes (ldd then exits 1: 4 times in 200 on a busy machine).
prints() {
    local opt=() output
    if [ "$1" = -F ]; then
        opt=(-F)
        shift
    fi
    local pattern=$1
    shift
    output=$("$@") && grep -q "${opt[@]}" -- "$pattern" <<<"$output"
}

# Every place that states the version agrees with meson.build's.
versions() {
    local dkms changelog manual
    dkms=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$SGDMA_TOP/dkms.conf")
    changelog=$(dpkg-parsechangelog -l "$SGDMA_TOP/debian/changelog" -S Version)
    manual=$(sed -n '1s/^% .* sgdma \([^ ]*\) |.*/\1/p' "$SGDMA_TOP/docs/sgdma.1.md")
    echo "meson.build $version, dkms.conf $dkms, debian/changelog" \
        "$changelog, docs/sgdma.1.md $manual"
    [ "$dkms" = "$version" ] && [ "${changelog%-*}" = "$version" ] &&
        [ "$manual" = "$version" ]
}

# The files of the checkout (tracked, and new ones not ignored), as they are
# in the working tree, so that uncommitted changes are what gets packaged.
checkout_files() {
    (cd "$SGDMA_TOP" &&
     git ls-files -z --cached --others --exclude-standard |
         while IFS= read -r -d '' f; do
             [ -e "$f" ] && printf '%s\0' "$f"
         done)
}

# dpkg-buildpackage in a copy of the checkout, never in the checkout itself,
# unless the last build was of the same files (names, modes and contents).
build() {
    local list=$out/files hash
    checkout_files >"$list" || return 1
    hash=$( (cd "$SGDMA_TOP" && xargs -0 stat -c '%a %n' <"$list" &&
             xargs -0 sha256sum <"$list") | sha256sum | cut -d' ' -f1)
    if [ "$(cat "$out/source.hash" 2>/dev/null)" = "$hash" ] &&
       ls "$out"/*.changes >/dev/null 2>&1; then
        echo "packages of this checkout already built"
        return 0
    fi
    rm -rf "$out"/sgdma-*/ "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo \
        "$out/source.hash"
    mkdir "$out/sgdma-$version"
    tar -C "$SGDMA_TOP" --null -T "$list" -cf - |
        tar -xf - -C "$out/sgdma-$version" || return 1
    (cd "$out/sgdma-$version" &&
     dpkg-buildpackage -us -uc -b -j"$(nproc)") || return 1
    echo "$hash" >"$out/source.hash"
}

# No errors and no warnings (an override says why where one is expected);
# the rest is printed (as TAP comments).
lint() {
    lintian --fail-on error,warning --tag-display-limit 0 "$out"/*.changes
}

# deb PACKAGE: the package's file.
deb() { ls "$out/$1"_*.deb; }

# has PACKAGE PATH...: the package ships each PATH.
has() {
    local pkg=$1 list path
    shift
    list=$(dpkg-deb -c "$(deb "$pkg")" | awk '{ print $6 }' | sed 's,^\.,,')
    for path in "$@"; do
        grep -qxF "$path" <<<"$list" || { echo "$pkg lacks $path"; return 1; }
    done
}

# Each package holds what it is for, and the tool is the one executable of
# them all: the guest's test programs and benchmarks (static, for the
# initramfs) and the host tests stay out.
contents() {
    local src=/usr/src/sgdma-$version execs
    has sgdma-dkms "$src/dkms.conf" "$src/driver/Kbuild" \
        "$src/driver/sgdma_main.c" "$src/uapi/sgdma.h" &&
    prints 'dkms' dpkg-deb -I "$(deb sgdma-dkms)" postinst &&
    has libsgdma0 "$libdir/libsgdma.so.0" "$libdir/libsgdma.so.$version" &&
    prints sgdma_open dpkg-deb -I "$(deb libsgdma0)" symbols &&
    has libsgdma-dev /usr/include/sgdma/libsgdma.h \
        /usr/include/sgdma/sgdma.h "$libdir/libsgdma.so" \
        "$libdir/libsgdma.a" "$libdir/pkgconfig/libsgdma.pc" &&
    has sgdma-tools /usr/bin/sgdma /usr/share/man/man1/sgdma.1.gz || return 1
    execs=$(for d in "$out"/*.deb; do dpkg-deb -c "$d"; done |
            awk '$1 ~ /^-..x/ { print $6 }' | sort)
    echo "executables: $execs"
    [ "$execs" = ./usr/bin/sgdma ]
}

# The packages' dependencies resolve on this Debian release.
installable() {
    apt-get install --simulate -q "$out"/*.deb
}

unpack() {
    local d
    rm -rf "$root"
    for d in "$out"/*.deb; do
        dpkg-deb -x "$d" "$root" || return 1
    done
}

# The packaged tool runs on the packaged shared library.
tool() {
    prints 'NEEDED.*\[libsgdma\.so\.0\]' readelf -d "$root/usr/bin/sgdma" &&
    prints -F "libsgdma.so.0 => $root$libdir/libsgdma.so.0" \
        env LD_LIBRARY_PATH="$root$libdir" ldd "$root/usr/bin/sgdma" &&
    LD_LIBRARY_PATH=$root$libdir "$root/usr/bin/sgdma" -V |
        grep "^sgdma $version (libsgdma $version,"
}

# The manual page renders without a complaint from groff.
manual() {
    local page=$root/usr/share/man/man1/sgdma.1.gz
    prints 'sgdma - move data' env LC_ALL=C.UTF-8 MANWIDTH=80 \
        man --warnings -E UTF-8 -l "$page" 2>"$out/man.err" &&
    ! grep . "$out/man.err"
}

# DKMS builds the module from the unpacked /usr/src against the guest
# kernel's headers, in a DKMS tree of its own (the host's /var/lib/dkms is
# not touched). It signs the module as an install would, with a key made
# for this tree: the guest, which does not enforce signatures, loads it.
dkms_tree=$out/dkms
dkms_build() {
    local args=(--sourcetree "$root/usr/src" --dkmstree "$dkms_tree"
                -m sgdma -v "$version")
    rm -rf "$dkms_tree"
    mkdir -p "$dkms_tree"
    export mok_signing_key=$dkms_tree/mok.key mok_certificate=$dkms_tree/mok.pub
    dkms add "${args[@]}" &&
    dkms build "${args[@]}" -k "$KVER" --kernelsourcedir "$KDIR" || {
        cat "$dkms_tree/sgdma/$version/build/make.log" 2>/dev/null
        return 1
    }
    module=$(find "$dkms_tree/sgdma/$version/$KVER" -name 'sgdma.ko*' | head -n1)
    echo "module: $module"
    [ -n "$module" ] &&
        prints "^$KVER " modinfo -F vermagic "$module" &&
        prints ': built$' dkms status "${args[@]}" -k "$KVER"
}

# pkgconfig: tests/host/pkgconfig.sh on the unpacked root, its cases a
# subtest of this one.
pkgconfig() {
    local status
    if [ -n "$blocked" ]; then
        step pkgconfig true
        return
    fi
    "$SGDMA_TOP/tests/host/pkgconfig.sh" --root "$root" >"$log" 2>&1
    status=$?
    sed 's/^/    /' "$log"
    n=$((n + 1))
    if [ $status = 0 ]; then
        echo "ok $n pkgconfig"
    else
        failed=$((failed + 1))
        echo "not ok $n pkgconfig"
    fi
}

module=
echo "TAP version 13"
if [ "$mode" = --initrd ]; then
    # Only what the boot needs: the checks are judged without --initrd.
    echo "1..3"
    gate build build
    gate unpack unpack
    step dkms_build dkms_build
else
    echo "1..10"
    step versions versions
    gate build build
    step lintian lint
    [ -n "$blocked" ] || sed -n 's/^\([EWIPNXO]: \)/# \1/p' "$log"
    step contents contents
    step installable installable
    gate unpack unpack
    step tool tool
    step manual manual
    pkgconfig
    step dkms_build dkms_build
fi
[ -z "$module" ] || echo "# module: $module"
echo "# $((n - failed)) passed, $failed failed"
if [ "$mode" != --initrd ]; then
    [ $failed = 0 ]
    exit
fi

# The guest as ci/build.sh makes it (QEMU, kernel, the static tool and
# test programs), with the DKMS-built module in its initramfs.
[ -n "$module" ] || die "DKMS built no module"
built=$("$ci/build.sh" "$series") || die "ci/build.sh $series failed"
eval "$built"
initrd=$out/initramfs-dkms-$KVER.cpio.gz
"$ci/initramfs.sh" "$initrd" "$KTREE" "$KVER" "$module" "$SGDMA_TOP/build/meson" ||
    die "initramfs with the DKMS-built module failed"
# The module the guest loads is this very file (DKMS signed it; a module
# built by ci/build.sh is not signed).
zcat "$initrd" | cpio -i --quiet --to-stdout "lib/modules/$KVER/extra/sgdma.ko" |
    cmp -s - "$module" || die "the initramfs does not hold the DKMS-built module"
# ci/build.sh's assignments, with this initramfs.
{
    grep -v '^INITRD=' <<<"$built"
    echo "INITRD=$initrd"
    echo "MODULE=$module"
} >&3
