#!/bin/bash
# One mutant of the mutation lane (ci/mutants.sh runs this once per mutant,
# under the CPU lock if it was given one): apply tests/mutants/NAME.patch
# to a copy of the checkout's tracked files, build what it touches, and run
# the boots and qtests its header names, then further cells, until one
# fails.
#
#   ci/mutant.sh NAME     writes build/mutants/results/NAME.tsv:
#                         name, class, caught|missed|error, by what, seconds
#   ci/mutant.sh --list-tries NAME...  prints the tries those mutants name
#   ci/mutant.sh --baseline SPEC...   runs each try SPEC ("qtest" or
#                         "SERIES CELL PROGS") on the checkout as it is:
#                         a try that fails there cannot catch anything, so
#                         mutants skip it (build/mutants/baseline/)
#   ci/mutant.sh --check-applies      TAP, one case per patch of
#                         tests/mutants/: it applies to the checkout's
#                         tracked files as a mutant run applies it (a host
#                         check of make test: a driver or device change
#                         must not orphan a mutant)
#
# The patch's header (the text before its first "diff --git") holds
# "Key: value" lines; the lane reads:
#   Class: the bug class
#   Missed: why this rig cannot see the bug yet (printed if it is missed)
#   Try: qtest                    the device's qtests (private QEMU build)
#   Try: SERIES CELL [PROG,...]   a boot through the harness, only those
#                                 guest programs (all when none is named)
# "caught" means the harness (or the qtest binary) exited non-zero; the
# lane reports its first failing case. Environment:
#   MUTANTS_FURTHER  series:cells to boot after the named tries, whole
#                    (default "6.1:all"; "none" for only the named ones)
set -euo pipefail
ci=$(cd "$(dirname "$0")" && pwd)
. "$ci/common.sh"

name=$1
[ "$name" != --baseline ] || { shift; name=baseline; }
patch=$SGDMA_TOP/tests/mutants/$name.patch
out=$SGDMA_TOP/build/mutants
work=$out/work/$name
results=$out/results
# Baselines hold for one state of the checkout's tracked files.
state=$({ git -C "$SGDMA_TOP" rev-parse HEAD; git -C "$SGDMA_TOP" diff HEAD; } |
        sha1sum | cut -c1-12)
baselines=$out/baseline/$state
start=$(date +%s)

# header KEY [PATCH]: each value of KEY, one a line, its indented continuation
# lines joined to it.
header() {
    awk -v key="$1:" '/^diff --git / { exit }
        $1 == key { if (v != "") print v; sub(/^[^:]*: */, ""); v = $0; on = 1; next }
        on && /^[ \t]+[^ \t]/ { sub(/^[ \t]+/, " "); v = v $0; next }
        { on = 0 }
        END { if (v != "") print v }' "${2:-$patch}"
}
# spec_key SPEC: one spelling per try ("SERIES CELL" means every program).
spec_key() {
    local words
    read -ra words <<<"$1"
    if [ "${words[0]}" = qtest ] || [ "${#words[@]}" -gt 2 ]; then
        echo "${words[*]}"
    else
        echo "${words[*]} all"
    fi
}

# --list-tries NAME...: the distinct tries the mutants' headers name.
if [ "$name" = --list-tries ]; then
    shift
    for n in "$@"; do
        p=$SGDMA_TOP/tests/mutants/$n.patch
        [ ! -f "$p" ] || header Try "$p" | while read -r t; do spec_key "$t"; done
    done | awk '!seen[$0]++'
    exit 0
fi

# copy_tracked DIR: the checkout's tracked files, as they are, into DIR.
copy_tracked() {
    mkdir -p "$1"
    (cd "$SGDMA_TOP" && git ls-files -z | tar --null -T - -cf -) | tar -C "$1" -xf -
}
# apply_patch DIR PATCH [OPTION...]: patch(1), strictly: git apply, run
# inside the checkout's own tree (the copy is under build/), would skip
# every path outside the copy, silently.
apply_patch() {
    (cd "$1" && patch -p1 --batch --fuzz=0 --no-backup-if-mismatch "${@:3}" <"$2")
}

if [ "$name" = --check-applies ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    copy_tracked "$tmp"
    patches=("$SGDMA_TOP"/tests/mutants/*.patch)
    echo "1..${#patches[@]}"
    n=0 failed=0
    for p in "${patches[@]}"; do
        n=$((n + 1))
        if msg=$(apply_patch "$tmp" "$p" --dry-run 2>&1); then
            echo "ok $n ${p##*/}"
        else
            failed=$((failed + 1))
            sed 's/^/#   /' <<<"$msg"
            echo "not ok $n ${p##*/} does not apply"
        fi
    done
    exit $((failed > 0))
fi
mkdir -p "$results" "$baselines"

class='?'
[ ! -f "$patch" ] || class=$(header Class | head -n1)

# finish STATUS BY: the result line (a miss with its written reason), then exit
finish() {
    local why=
    [ "$1" != missed ] || why=$(header Missed | head -n1)
    # "-" for an empty field: read splits on runs of tabs.
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "${class:-?}" "$1" "${2:--}" \
        "$(($(date +%s) - start))" "${why:--}" >"$results/$name.tsv"
    log "$name: $1${2:+ ($2)} in $(($(date +%s) - start)) s"
    exit 0
}
error() { log "$name: $*"; finish error "$*"; }

kind='' touched=()
if [ "$name" = baseline ]; then
    kind=baseline
else
    [ -f "$patch" ] || error "no $patch"
    [ -n "$class" ] || error "the header has no Class:"

    # What the patch touches decides what is built: the module or QEMU.
    mapfile -t touched < <(sed -n 's|^diff --git a/\([^ ]*\) .*|\1|p' "$patch" | sort -u)
    for f in "${touched[@]}"; do
        case $f in
        driver/*)       k=driver ;;
        qemu-device/*)  k=device ;;
        *)              error "touches $f (only driver/ or qemu-device/)" ;;
        esac
        [ -z "$kind" ] || [ "$kind" = "$k" ] || error "touches driver and device"
        kind=$k
    done
    [ -n "$kind" ] || error "no diff in the patch"
fi

# A fresh copy of the tracked files, as they are in the checkout.
rm -rf "$work"
mkdir -p "$work/logs"
copy_tracked "$work/src"
[ "$kind" = baseline ] || apply_patch "$work/src" "$patch" >"$work/apply.log" 2>&1 ||
    error "does not apply: $(grep -m1 -iE 'fail|error|malformed|can.t' "$work/apply.log")"
for f in "${touched[@]}"; do
    ! cmp -s "$SGDMA_TOP/$f" "$work/src/$f" || error "the patch left $f unchanged"
done

# User space is the checkout's own (mutants touch only driver or device).
if [ ! -f "$out/meson/build.ninja" ]; then
    meson setup "$out/meson" "$SGDMA_TOP" >"$out/meson-setup.log" 2>&1 ||
        error "meson setup failed (see $out/meson-setup.log)"
fi
ninja -C "$out/meson" >"$out/meson.log" 2>&1 ||
    error "user space build failed (see $out/meson.log)"

# The lane's own QEMU: the checkout's ci/qemu.sh run from a tree of the
# lane's ($SGDMA_CACHE/mutants/top) with SGDMA_CACHE=$SGDMA_CACHE/mutants,
# so its source copy and builds are the lane's, never the shared ones. Its
# hw/sgdma is that tree's qemu-device/, whose files are rewritten only
# where they differ: ninja recompiles only the device when a mutant (or
# the return to the real device) changes it.
lane=$SGDMA_CACHE/mutants
while IFS= read -r -d '' f; do
    install_if_changed "$work/src/$f" "$lane/top/$f"
done < <(cd "$work/src" && find ci qemu-device tests/qtest -type f -print0)
chmod +x "$lane/top/ci"/*.sh
qbuild=$(SGDMA_CACHE=$lane "$lane/top/ci/qemu.sh" default 2>"$work/qemu.log") ||
    error "QEMU build failed (see $work/qemu.log)"
qemu=$qbuild/qemu-system-x86_64

# The module and initramfs of one kernel series: the mutant's driver for a
# driver mutant, the checkout's for a device mutant. One module tree per
# kernel serves every mutant: files are rewritten only where they differ,
# so make recompiles what the mutant (or the return from one) changed.
# Sets KERNEL, INITRD, KVER.
declare -A built
guest_for() {
    local series=$1 kernel kdir f
    case $series in
    debug) kernel=$(with_cache_lock kernel-debug "$ci/kernel-debug.sh") ;;
    *)     kernel=$(with_cache_lock kernel "$ci/kernel.sh" "$series") ;;
    esac || return 1
    eval "$kernel"  # KVER, KTREE, KDIR
    KERNEL=$KTREE/boot/vmlinuz-$KVER
    INITRD=$work/initramfs-$KVER.cpio.gz
    [ -z "${built[$series]:-}" ] || return 0
    kdir=$out/kmod-$KVER
    for f in "$work"/src/driver/* "$work"/src/uapi/*.h; do
        install_if_changed "$f" "$kdir/${f#"$work/src/"}"
    done
    make -C "$KDIR" M="$kdir/driver" modules >"$work/kmod-$KVER.log" 2>&1 ||
        { log "module build failed for $KVER: see $work/kmod-$KVER.log"; return 1; }
    "$ci/initramfs.sh" "$INITRD" "$KTREE" "$KVER" "$kdir/driver/sgdma.ko" \
        "$out/meson" || return 1
    built[$series]=1
}

# try SPEC: 0 if the mutant was caught (and BY says how), 1 if not.
BY=
try_qtest() {
    local log=$work/logs/qtest.log status=0 n
    QTEST_QEMU_BINARY=$qemu timeout 900 "$qbuild/tests/qtest/sgdma-test" \
        --tap -k >"$log" 2>&1 </dev/null || status=$?
    if [ "$status" != 0 ] || grep -q '^not ok' "$log"; then
        BY="qtest $(sed -n 's/^not ok [0-9]* *-* *//p' "$log" | head -n1)"
        if [ "$BY" = "qtest " ]; then
            # A failed assertion ends the binary: the test that failed is
            # the one after the last that passed, in the binary's order.
            n=$(sed -n 's/^ok \([0-9]*\) .*/\1/p' "$log" | tail -n1)
            BY="qtest $(QTEST_QEMU_BINARY=$qemu "$qbuild/tests/qtest/sgdma-test" -l |
                        grep '^/' | sed -n "$((${n:-0} + 1))p"): $(grep -m1 '^ERROR\|^Bail' "$log" | cut -c1-120)"
        fi
        return 0
    fi
    return 1
}

# The harness is used through its command line only. Guest programs are
# chosen with --tests where it has that option, else on the kernel command
# line; it runs in the mutant's directory, so whatever it writes to a
# default path (results files) stays there.
harness=$SGDMA_TOP/tests/harness/sgdma_harness.py
harness_help=$(python3 "$harness" --help 2>&1) || true

try_boot() {
    local series=$1 cell=$2 progs=${3:-} log opts=()
    guest_for "$series" || error "cannot build the guest for $series"
    log=$work/logs/$series-$cell${progs:+-${progs//,/-}}.log
    if [ -n "$progs" ] && [ "$progs" != all ]; then
        if grep -q -- '--tests' <<<"$harness_help"; then
            opts+=(--tests "$progs")
        else
            opts+=(--append "sgdma_tests=$progs")
        fi
    fi
    if (cd "$work" && python3 "$harness" test \
        --qemu "$qemu" --logdir "$work/logs" \
        --series "$series" "$KERNEL" "$INITRD" "$work/logs/$KVER" "$cell" \
        "${opts[@]}") >"$log" 2>&1; then
        return 1
    fi
    # The first failing case, without the TAP number; else why it exited.
    BY=$(sed -n 's/^not ok [0-9]* //p' "$log" | head -n1 | cut -c1-160)
    [ -n "$BY" ] || BY="$series/$cell: harness failed: $(tail -n1 "$log" | cut -c1-120)"
    return 0
}

declare -A tried
run_try() {
    local spec=$1 key
    key=$(echo "$spec" | tr -s ' ')
    [ -z "${tried[$key]:-}" ] || return 1
    tried[$key]=1
    log "$name: trying $key"
    # shellcheck disable=SC2086
    case $key in
    qtest) try_qtest ;;
    *)     try_boot $key ;;
    esac
}

# The record of a try on the checkout as it is: "pass", or "fail: CASE".
baseline_file() { echo "$baselines/$(echo "$1" | tr ' ,/' '_+-')"; }

if [ "$kind" = baseline ]; then
    for t in "$@"; do
        t=$(spec_key "$t")
        f=$(baseline_file "$t")
        [ ! -f "$f" ] || continue
        if run_try "$t"; then
            echo "fail: $BY" >"$f"
            log "baseline $t: FAILS ($BY): mutants will not count on it"
        else
            echo pass >"$f"
        fi
    done
    exit 0
fi

mapfile -t tries < <(header Try)
[ "${#tries[@]}" -gt 0 ] || error "the header names no Try:"
further=${MUTANTS_FURTHER:-6.1:all}
if [ "$further" != none ]; then
    [ "$kind" = driver ] || tries+=(qtest)
    for entry in $further; do
        series=${entry%%:*} cells=${entry#*:}
        [ "$cells" != all ] || cells=$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import sgdma_harness as h; print(" ".join(h.CELLS))' "$SGDMA_TOP/tests/harness")
        for c in ${cells//,/ }; do
            tries+=("$series $c all")
        done
    done
fi
skipped=
for t in "${tries[@]}"; do
    t=$(spec_key "$t")
    f=$(baseline_file "$t")
    if [ -f "$f" ] && [ "$(cat "$f")" != pass ]; then
        log "$name: not trying $t: it $(cat "$f") without the mutant"
        skipped+="; $t fails without the mutant"
        continue
    fi
    if run_try "$t"; then
        # A try whose baseline was never run: say so next to the catch.
        [ -f "$f" ] || BY="$BY (no baseline run)"
        finish caught "$BY"
    fi
done
finish missed "${skipped#; }"
