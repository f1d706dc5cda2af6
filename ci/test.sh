#!/bin/bash
# "make test": build what is missing, then run the qtests and boot the
# matrix: every kernel series of MATRIX below with its cells; ends with one
# summary (per-boot counts, times and pin totals) and "N passed, N failed,
# N skipped"; JUnit XML in build/test-results/junit.xml.
#   ci/test.sh                             the whole matrix
#   KSERIES=6.12 ci/test.sh                every cell of one series
#   CELLS="no-iommu swiotlb" ci/test.sh    those cells of 6.1 (or KSERIES)
#   TESTS="sgdma_data sgdma_rw" ci/test.sh runs only those guest programs
#                                          (and the manifest's "always" ones)
#   HOST=0 ci/test.sh                      skips qtests, host tests and style checks
#   SGDMA_QEMU=10.0 ci/test.sh             the matrix on QEMU 10.0 (make QEMU=10.0)
#   LANE=full ci/test.sh                   adds the QEMU 10.0 ASan+UBSan qtests
set -euo pipefail
ci=$(dirname "$0")
. "$ci/common.sh"

# The boot matrix: kernel series (as ci/kernel.sh takes them) and the cells
# each boots ("all": every cell of tests/harness/sgdma_harness.py). Both
# Debian series boot every configuration; the debug kernel, three times
# slower, boots the strict IOMMU, and so does 6.1-dkms: the 6.1 guest with
# the module DKMS built from the sgdma-dkms package (ci/packages.sh).
MATRIX=(
    "6.1:all"
    "6.12:all"
    "debug:iommu-strict"
    "6.1-dkms:iommu-strict"
)

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

opts=()
for entry in "${plan[@]}"; do
    series=${entry%%:*}
    cells=${entry#*:}
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
# unless KSERIES or CELLS narrow the run. The qtests run on both lines and
# on 7.2 with ASan+UBSan; LANE=full adds 10.0 with ASan+UBSan.
main_line=${SGDMA_QEMU:-7.2}
case $main_line in
7.2)  other_line=10.0 ;;
10.0) other_line=7.2 ;;
*)    die "unknown QEMU line '$main_line' (7.2 or 10.0)" ;;
esac
if [ -z "${KSERIES:-}${CELLS:-}" ]; then
    built=$("$ci/build.sh" 6.1 "$other_line")
    eval "$(sed 's/^/other_/' <<<"$built")"   # keeps this line's QEMU
    label=6.1-qemu-$other_line
    opts+=(--series "$label" "$other_KERNEL" "$other_INITRD"
           "$SGDMA_TOP/build/logs/qemu-$other_line/$other_KVER" iommu-strict
           --series-qemu "$label=$other_QEMU")
fi
qtest_flavours=("7.2 default" "10.0 default" "7.2 asan")
[ "${LANE:-}" != full ] || qtest_flavours+=("10.0 asan")
# --- end of QEMU lines ---
[ -z "${TESTS:-}" ] || opts+=(--tests "$TESTS")
if [ "${HOST:-1}" != 0 ]; then
    for lf in "${qtest_flavours[@]}"; do   # QEMU lines: qtests
        read -r line flavour <<<"$lf"
        qb=$(with_cache_lock qemu "$ci/qemu.sh" "$flavour" "$line")
        opts+=(--qtest "qemu-$line-$flavour=$qb/qemu-system-x86_64,$qb/tests/qtest/sgdma-test")
    done
    # The fuzz build can take longer than a check may: built here.
    "$ci/fuzz.sh" build >/dev/null
    opts+=(--tap-check "fuzz_smoke=$ci/fuzz.sh smoke 60")
    opts+=(--tap-check "libsgdma=$SGDMA_TOP/build/meson/tests/host/test-cli"
           --tap-check "sgdma_cli=$SGDMA_TOP/tests/host/tool-cli.sh $SGDMA_TOP/build/meson"
           --tap-check "pkgconfig=$SGDMA_TOP/tests/host/pkgconfig.sh $SGDMA_TOP/build/meson"
           --tap-check "packages=$ci/packages.sh"
           --check "harness_selftest=python3 -m unittest discover -s $SGDMA_TOP/tests/harness -p 'test_*.py'"
           --check "checkpatch_kernel=$ci/checkpatch.sh kernel"
           --check "checkpatch_qemu=$ci/checkpatch.sh qemu"
           --check "bench_smoke=$ci/bench.sh --smoke")
fi
exec python3 "$SGDMA_TOP/tests/harness/sgdma_harness.py" test \
    --qemu "$QEMU" --logdir "$SGDMA_TOP/build/logs" \
    --junit "$SGDMA_TOP/build/test-results/junit.xml" "${opts[@]}"
