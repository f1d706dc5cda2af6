#!/bin/bash
# Fetch Debian's QEMU source, put the sgdma device into it and build
# qemu-system-x86_64 (and the sgdma qtest) with a minimal configure.
#
#   ci/qemu.sh [default|asan] [LINE]     prints the directory of the
#                                        binaries (qemu-system-x86_64,
#                                        tests/qtest/sgdma-test) on stdout
#   ci/qemu.sh source [LINE]             only fetches and prepares the source,
#                                        prints its directory
#
# LINE: a QEMU line of ci/qemu-versions (7.2, the default, or 10.0); the
# exact Debian source version pinned there is fetched, or nothing is.
set -euo pipefail
. "$(dirname "$0")/common.sh"

flavour=${1:-default}
line=${2:-7.2}
case $flavour in
default|asan|source) ;;
*) die "unknown QEMU flavour '$flavour'" ;;
esac

versions=$SGDMA_TOP/ci/qemu-versions
read -r srcver suite < <(awk -v l="$line" '$1 == "qemu" && $2 == l {
    print $3, $4 }' "$versions") || true
[ -n "${srcver:-}" ] || die "no QEMU line '$line' in ci/qemu-versions"
# The tools this line needs that the machine's release lacks.
tools=$(awk -v l="$line" '$1 == "tool" && $2 == l { print $3 "=" $4, $5 }' \
    "$versions")
qroot=$SGDMA_CACHE/qemu/${srcver//:/_}  # no colons: configure refuses them
src=$qroot/src

# derive_sources TYPE SUITE: the machine's apt entries for its own release,
# as TYPE ("deb" or "deb-src") entries of SUITE; deb822 and one-line forms.
derive_sources() {
    local type=$1 suite=$2 release f
    release=$(. /etc/os-release && echo "$VERSION_CODENAME")
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -e "$f" ] || continue
        case ${f##*/} in sgdma-*) continue ;; esac
        # deb822: one stanza per paragraph; those with the release itself
        # among their suites become one of SUITE.
        awk -v RS= -v ORS='\n\n' -v rel="$release" -v type="$type" \
            -v suite="$suite" '
            $0 ~ "(^|\n)Suites:([^\n]*[ \t])?" rel "([ \t][^\n]*)?(\n|$)" {
                gsub(/(^|\n)#[^\n]*/, "")
                sub(/Types:[^\n]*/, "Types: " type)
                sub(/Suites:[^\n]*/, "Suites: " suite)
                print
            }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -e "$f" ] || continue
        case ${f##*/} in sgdma-*) continue ;; esac
        awk -v rel="$release" -v type="$type" -v suite="$suite" '
            $1 == "deb" {
                for (i = 2; i <= NF; i++)
                    if ($i == rel) { $1 = type; $i = suite; print; break }
            }' "$f"
    done
}

# A line from another suite gets an apt configuration of its own (sources,
# lists and caches under the QEMU cache), so the machine's apt is never
# switched to that suite; the line from the machine's own release uses the
# machine's apt, whose deb-src entries ci/host-deps.sh added.
apt_opts=()
if [ "$suite" != - ]; then
    aptdir=$qroot/apt
    mkdir -p "$aptdir/sources.list.d" "$aptdir/lists/partial" \
        "$aptdir/cache/archives/partial"
    apt_opts=(-o "Dir::Etc::SourceList=$aptdir/sources.list"
              -o "Dir::Etc::SourceParts=$aptdir/sources.list.d"
              -o "Dir::State::Lists=$aptdir/lists"
              -o "Dir::Cache=$aptdir/cache")
    {
        derive_sources deb-src "$suite"
        for s in $(echo "$tools" | awk '{ print $2 }' | sort -u); do
            derive_sources deb "$s"
        done
    } >"$aptdir/sgdma.sources.new"
    [ -s "$aptdir/sgdma.sources.new" ] ||
        die "no apt source of this machine's release to derive '$suite' from"
    mv "$aptdir/sgdma.sources.new" "$aptdir/sources.list.d/sgdma.sources"
fi

# showsrc_has VERSION: apt offers source qemu=VERSION
showsrc_has() {
    local offered
    offered=$(apt-cache "${apt_opts[@]}" showsrc qemu 2>/dev/null)
    grep -qxF "Version: $1" <<<"$offered"
}

if [ ! -f "$src/.sgdma-unpacked" ]; then
    # Its own lists are refreshed when they lack the pinned version.
    if ! showsrc_has "$srcver" && [ "$suite" != - ]; then
        log "updating the apt lists of suite $suite (QEMU $line)"
        apt-get "${apt_opts[@]}" update -q >&2
    fi
    showsrc_has "$srcver" ||
        die "apt offers no source qemu=$srcver (ci/qemu-versions, QEMU $line)"
    log "fetching QEMU source $srcver"
    rm -rf "$qroot/dl" "$src"
    mkdir -p "$qroot/dl"
    (cd "$qroot/dl" && apt-get "${apt_opts[@]}" source -q "qemu=$srcver" >/dev/null)
    mv "$qroot/dl"/qemu-*/ "$src"
    rm -rf "$qroot/dl"
    touch "$src/.sgdma-unpacked"
fi

# Build tools from another suite: unpacked into the cache, found through
# PATH and PYTHONPATH by configure and by the meson that ninja reruns.
if [ -n "$tools" ]; then
    troot=$qroot/tools
    if [ "$(cat "$troot/.sgdma-tools" 2>/dev/null)" != "$tools" ]; then
        log "unpacking build tools for QEMU $line"
        rm -rf "$troot"
        mkdir -p "$troot/debs"
        # Its own lists are refreshed when they lack a pinned version.
        # shellcheck disable=SC2046 # one word per package=version
        download() { (cd "$troot/debs" && apt-get "${apt_opts[@]}" \
            download -q $(echo "$tools" | awk '{ print $1 }') >/dev/null); }
        download || { apt-get "${apt_opts[@]}" update -q >&2 && download; } ||
            die "apt offers no ${tools//$'\n'/, } (ci/qemu-versions, QEMU $line)"
        for deb in "$troot"/debs/*.deb; do
            dpkg -x "$deb" "$troot/root"
        done
        echo "$tools" >"$troot/.sgdma-tools"
    fi
    export PATH=$troot/root/usr/bin:$PATH
    export PYTHONPATH=$troot/root/usr/lib/python3/dist-packages${PYTHONPATH:+:$PYTHONPATH}
fi

# The device's sources as this checkout has them, keyed by their content
# (names included): a copy under the QEMU tree's cache, written once and
# never changed, so another checkout (a second worktree or clone) can
# never change what a build in progress compiles.
devkey=$( (cd "$SGDMA_TOP" && sha256sum qemu-device/* tests/qtest/sgdma-test.c) |
          sha256sum | cut -c1-16)
devsrc=$qroot/device-src/$devkey
if [ ! -d "$devsrc" ]; then
    rm -rf "$devsrc.tmp"
    mkdir -p "$devsrc.tmp/qemu-device"
    cp -p "$SGDMA_TOP"/qemu-device/* "$devsrc.tmp/qemu-device/"
    cp -p "$SGDMA_TOP/tests/qtest/sgdma-test.c" "$devsrc.tmp/"
    mv -T "$devsrc.tmp" "$devsrc"
fi
# Wire the device in: hw/sgdma is a link to that copy, the qtest a link to
# its; three one-line hooks into QEMU's build files.
ln -sfn "$devsrc/qemu-device" "$src/hw/sgdma"
ln -sfn "$devsrc/sgdma-test.c" "$src/tests/qtest/sgdma-test.c"
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
[ "$flavour" != source ] || { echo "$src"; exit 0; }

# Options that differ between QEMU lines, chosen by what this source's
# configure offers: the sanitizers were one option until 8.0, then two;
# since 8.0 configure would download what it misses (it must not), and
# the firmware blobs a +ds tarball lacks must not be installed.
if grep -q "option('asan'" "$src/meson_options.txt"; then
    sanitizers=(--enable-asan --enable-ubsan)
else
    sanitizers=(--enable-sanitizers)
fi
case $flavour in
default) extra=() ;;
asan)    extra=("${sanitizers[@]}") ;;
esac
if grep -q -- '--disable-download' "$src/configure"; then
    extra+=(--disable-download --disable-install-blobs)
fi

build=$qroot/build-$flavour
conf=(--target-list=x86_64-softmmu --disable-docs --disable-tools
      --disable-user --disable-werror --without-default-features
      --enable-fdt=system
      --firmwarepath=/usr/share/qemu:/usr/share/seabios --cc="ccache gcc" --cxx="ccache g++"
      "${extra[@]}")
# What boots and qtests run is not the build tree, which any checkout
# rebuilds, but a copy of its two binaries keyed by everything they are
# built from (the configuration and the device's sources): added once,
# never replaced, so a boot in progress never finds its QEMU changed and
# a checkout never runs another's device. The build tree is only the
# workshop: when its device objects were made from other sources, they
# go (ninja compares only times), and ninja rebuilds the device and links.
key=$(printf '%s\n' "${conf[*]}" "$devkey" | sha256sum | cut -c1-16)
out=$qroot/sgdma-$flavour/$key
if [ -f "$out/.sgdma-complete" ]; then
    echo "$out"
    exit 0
fi
if [ ! -f "$build/build.ninja" ] || [ "$(cat "$build/.sgdma-conf" 2>/dev/null)" != "${conf[*]}" ]; then
    log "configuring QEMU $line ($flavour)"
    rm -rf "$build"
    mkdir -p "$build"
    (cd "$build" && "$src/configure" "${conf[@]}" >configure.log 2>&1) ||
        { tail -n 30 "$build/configure.log" >&2; die "QEMU configure failed"; }
    echo "${conf[*]}" >"$build/.sgdma-conf"
fi
sources=$(cat "$SGDMA_TOP"/qemu-device/* "$SGDMA_TOP/tests/qtest/sgdma-test.c" |
          sha256sum | cut -d' ' -f1)
if [ "$(cat "$build/.sgdma-sources" 2>/dev/null)" != "$sources" ]; then
    # The objects, and the trace code generated from trace-events.
    find "$build" \( -name '*sgdma*.o' -o -path '*/trace/trace-hw_sgdma.*' \) -delete
    rm -f "$build/.sgdma-sources"
fi
# ninja regenerates build.ninja only when a meson.build is newer than it,
# and the device's copy keeps its files' times: when the device's build
# files differ from those build.ninja was generated from (recorded with
# its time, which any regeneration changes), meson must run again.
buildfiles() {
    echo "$(cat "$devsrc"/qemu-device/{meson.build,Kconfig} | sha256sum | cut -c1-16)" \
        "$(stat -c %y "$build/build.ninja")"
}
if [ "$(cat "$build/.sgdma-buildfiles" 2>/dev/null)" != "$(buildfiles)" ]; then
    touch -d @0 "$build/build.ninja"
fi
log "building QEMU $line ($flavour) for device $devkey in $build"
ninja -C "$build" qemu-system-x86_64 tests/qtest/sgdma-test >"$build/ninja.log" 2>&1 ||
    { grep -A20 -m5 -E 'error|FAILED' "$build/ninja.log" >&2; die "QEMU build failed"; }
echo "$sources" >"$build/.sgdma-sources"
buildfiles >"$build/.sgdma-buildfiles"
# Run from outside an install, QEMU looks for firmware under qemu-bundle/
# (beside the binary) + --firmwarepath: Debian's seabios and
# qemu-system-data (a guest without display needs nothing else).
rm -rf "$out.tmp"
mkdir -p "$out.tmp/tests/qtest"
cp "$build/qemu-system-x86_64" "$out.tmp/"
cp "$build/tests/qtest/sgdma-test" "$out.tmp/tests/qtest/"
link_firmware "$out.tmp"
printf '%s\n' "$line $flavour" "${conf[*]}" "device $devkey" >"$out.tmp/.sgdma-complete"
mv -T "$out.tmp" "$out"
echo "$out"
