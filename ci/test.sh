#!/bin/bash
# "make test": build what is missing, then run the qtests and boot the
# matrix: every kernel series of MATRIX below with its cells; ends with one
# summary (per-boot counts, times and pin totals) and "N passed, N failed,
# N skipped"; JUnit XML in build/test-results/junit.xml.
#   ci/test.sh                             the whole matrix
#   KSERIES=6.12 ci/test.sh                every cell of one series
#   KSRC=/path/to/linux ci/test.sh         every cell of that kernel tree,
#                                          series "ksrc" (ci/kernel-ksrc.sh);
#                                          cells its config cannot boot
#                                          are reported skipped
#   CELLS="no-iommu swiotlb" ci/test.sh    those cells of 6.1 (or KSERIES)
#   TESTS="sgdma_data sgdma_rw" ci/test.sh runs only those guest programs
#                                          (and the manifest's "always" ones)
#   HOST=0 ci/test.sh                      skips qtests, host tests and style checks
#   SGDMA_QEMU=10.0 ci/test.sh             the matrix on QEMU 10.0 (make QEMU=10.0)
#   LANE=full ci/test.sh                   adds the ASan+UBSan qtests (7.2, 10.0),
#                                          every cell of 6.12 and the fuzz smoke
#   JOBS=4 ci/test.sh                      up to 4 boots at once (default:
#                                          one per two cores)
#   SHARD=2/4 ci/test.sh                   the 2nd of 4 slices of the run, in
#                                          build/test-results/shard-2-of-4/;
#                                          ci/test.sh --merge joins them
#   ci/test.sh --build-only                builds what the run needs, runs
#                                          nothing (CI's build job)
set -euo pipefail
ci=$(dirname "$0")
. "$ci/common.sh"

results=$SGDMA_TOP/build/test-results
if [ "${1:-}" = --merge ]; then   # make test-merge [SHARDS="DIR..."]
    shift
    dirs=("$@")
    [ ${#dirs[@]} -gt 0 ] || dirs=("$results"/shard-*-of-*)
    files=()
    for d in "${dirs[@]}"; do
        [ -f "$d/results.json" ] || die "no results.json in $d"
        files+=("$d/results.json")
    done
    exec python3 "$SGDMA_TOP/tests/harness/sgdma_harness.py" merge \
        --junit "$results/junit.xml" "${files[@]}"
fi
# Each boot runs two vCPU threads: by default one boot per two cores.
if [ -n "${JOBS:-}" ]; then
    [[ $JOBS =~ ^[1-9][0-9]*$ ]] || die "JOBS must be a number of boots, not '$JOBS'"
    jobs=$JOBS
else
    jobs=$(( $(nproc) / 2 ))
    [ "$jobs" -ge 1 ] || jobs=1
fi
junit=$results/junit.xml
if [ -n "${SHARD:-}" ]; then
    if ! [[ $SHARD =~ ^([1-9][0-9]*)/([1-9][0-9]*)$ ]] ||
        [ "${BASH_REMATCH[1]}" -gt "${BASH_REMATCH[2]}" ]; then
        die "SHARD must be i/N with 1 <= i <= N, not '$SHARD'"
    fi
    junit=$results/shard-${BASH_REMATCH[1]}-of-${BASH_REMATCH[2]}/junit.xml
fi

# The boot matrix: kernel series (as ci/build.sh takes them) and the cells
# each boots ("all": every cell of tests/harness/sgdma_harness.py). 6.1
# boots every configuration; 6.12 the three DMA layers (direct, IOMMU,
# bounce buffers), and every configuration with LANE=full: its other four
# boots (about 7 minutes) would take a cold make test past its 75-minute
# budget. The debug kernel, three times slower, boots the strict IOMMU,
# and so does 6.1-dkms: the 6.1 guest with the module DKMS built from the
# sgdma-dkms package (ci/packages.sh). The debug kernel is a tree of our
# own used as KSRC= uses one (ci/kernel-ksrc.sh): its boots test that path.
cells_612="no-iommu iommu-strict swiotlb"
[ "${LANE:-}" != full ] || cells_612=all
MATRIX=(
    "6.1:all"
    "6.12:$cells_612"
    "debug:iommu-strict"
    "6.1-dkms:iommu-strict"
)

# KSRC=<kernel tree>: series ksrc, unless KSERIES names series (with ksrc
# among them to boot the tree too).
[ -z "${KSRC:-}" ] || KSERIES=${KSERIES:-ksrc}
if [ -n "${KSERIES:-}" ]; then
    plan=()
    # The debug and DKMS lanes boot behind a strict IOMMU unless told.
    for s in $KSERIES; do
        case $s in
        debug | 6.1-dkms) plan+=("$s:${CELLS:-iommu-strict}") ;;
        *)                plan+=("$s:${CELLS:-all}") ;;
        esac
    done
elif [ -n "${CELLS:-}" ]; then
    plan=("6.1:$CELLS")
else
    plan=("${MATRIX[@]}")
fi

main_line=${SGDMA_QEMU:-7.2}   # see "QEMU lines" below
case $main_line in
7.2)  other_line=10.0 ;;
10.0) other_line=7.2 ;;
*)    die "unknown QEMU line '$main_line' (7.2 or 10.0)" ;;
esac
other_boot=()
[ -n "${KSERIES:-}${CELLS:-}" ] || other_boot=("6.1-qemu-$other_line:iommu-strict")

# --- slices (SHARD=i/N) ---
# A slice builds only the kernel series it boots; the harness deals the
# boots to slices before the other units, so they depend on the boots
# alone and the harness, given the whole plan, picks the same ones.
boots_here=
if [ -n "${SHARD:-}" ]; then
    boots_here=$(python3 "$SGDMA_TOP/tests/harness/sgdma_harness.py" \
        shard-boots --shard "$SHARD" "${plan[@]}" "${other_boot[@]}")
fi
# boots_series LABEL: this run boots that series (a slice may not)
boots_series() {
    [ -z "${SHARD:-}" ] ||
        awk -F/ -v l="$1" '$1 == l { f = 1 } END { exit !f }' <<<"$boots_here"
}
# --- end of slices ---

opts=()
for entry in "${plan[@]}"; do
    series=${entry%%:*}
    cells=${entry#*:}
    # Not in this slice: in the plan, never booted, so nothing to build.
    boots_series "$series" || { opts+=(--series "$series" - - - "$cells"); continue; }
    # Separate from eval, so a failed build stops here.
    case $series in
    6.1-dkms) built=$("$ci/packages.sh" --initrd) ;;
    *)        built=$("$ci/build.sh" "$series") ;;
    esac
    eval "$built"
    # The DKMS series boots the same kernel release as 6.1: logs of its own.
    logs=$SGDMA_TOP/build/logs/$KVER
    [ "$series" != 6.1-dkms ] || logs+=-dkms
    opts+=(--series "$series" "$KERNEL" "$INITRD" "$logs" "$cells")
done
# --- QEMU lines (ci/qemu-versions) ---
# The matrix boots on the line make's QEMU= names (7.2 unless told); the
# other line boots 6.1 behind the strict IOMMU, as a series of its own,
# unless KSERIES or CELLS narrow the run. The qtests run on both lines;
# LANE=full adds both built with ASan+UBSan: those builds (about 15
# minutes for 7.2 from nothing) and their qtests (about 5) would take a
# cold make test past its 75-minute budget.
label=6.1-qemu-$other_line
if [ ${#other_boot[@]} -gt 0 ] && ! boots_series "$label"; then
    opts+=(--series "$label" - - - iommu-strict)
elif [ ${#other_boot[@]} -gt 0 ]; then
    built=$("$ci/build.sh" 6.1 "$other_line")
    eval "$(sed 's/^/other_/' <<<"$built")"   # keeps this line's QEMU
    opts+=(--series "$label" "$other_KERNEL" "$other_INITRD"
           "$SGDMA_TOP/build/logs/qemu-$other_line/$other_KVER" iommu-strict
           --series-qemu "$label=$other_QEMU")
fi
qtest_flavours=("7.2 default" "10.0 default")
[ "${LANE:-}" != full ] || qtest_flavours+=("7.2 asan" "10.0 asan")
# --- end of QEMU lines ---
[ -z "${TESTS:-}" ] || opts+=(--tests "$TESTS")
if [ "${HOST:-1}" != 0 ]; then
    for lf in "${qtest_flavours[@]}"; do   # QEMU lines: qtests
        read -r line flavour <<<"$lf"
        qb=$(with_cache_lock qemu "$ci/qemu.sh" "$flavour" "$line")
        opts+=(--qtest "qemu-$line-$flavour=$qb/qemu-system-x86_64,$qb/tests/qtest/sgdma-test")
    done
    # The fuzz build (about 18 minutes from nothing) would take a cold
    # make test past its budget: LANE=full. Built here, as a check's time
    # is bounded.
    if [ "${LANE:-}" = full ]; then
        "$ci/fuzz.sh" build >/dev/null
        opts+=(--tap-check "fuzz_smoke=$ci/fuzz.sh smoke 60")
    fi
    opts+=(--tap-check "libsgdma=$SGDMA_TOP/build/meson/tests/host/test-cli"
           --tap-check "sgdma_cli=$SGDMA_TOP/tests/host/tool-cli.sh $SGDMA_TOP/build/meson"
           --tap-check "pkgconfig=$SGDMA_TOP/tests/host/pkgconfig.sh $SGDMA_TOP/build/meson"
           --tap-check "packages=$ci/packages.sh"
           --tap-check "ci_templates=$ci/check-templates.sh"
           --tap-check "mutants_apply=$ci/mutant.sh --check-applies"
           --check "harness_selftest=python3 -m unittest discover -s $SGDMA_TOP/tests/harness -p 'test_*.py'"
           --check "checkpatch_kernel=$ci/checkpatch.sh kernel"
           --check "checkpatch_qemu=$ci/checkpatch.sh qemu"
           --check "bench_smoke=$ci/bench.sh --smoke")
fi
# --- shards and parallel boots ---
# The harness picks a slice's units from the whole plan.
[ "${1:-}" != --build-only ] || { log "built; --build-only runs nothing"; exit 0; }
[ -z "${SHARD:-}" ] || opts+=(--shard "$SHARD")
# A slice that boots no series of this line built none: its QEMU.
[ -n "${QEMU:-}" ] ||
    QEMU=$(with_cache_lock qemu "$ci/qemu.sh" default "$main_line")/qemu-system-x86_64
exec python3 "$SGDMA_TOP/tests/harness/sgdma_harness.py" test \
    --qemu "$QEMU" --logdir "$SGDMA_TOP/build/logs" \
    --jobs "$jobs" --junit "$junit" "${opts[@]}"
