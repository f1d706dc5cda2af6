#!/bin/bash
# "make mutants": the mutation lane. Each seeded bug of tests/mutants/
# (a patch to driver/ or qemu-device/) is applied to a temporary copy of
# the checkout's tracked files, built, and run against the boots and
# qtests its header names first, then further cells, until the suite
# fails; ends with a table (mutant, class, caught by, seconds) and
# "N caught, N missed", also in build/mutants/report.md. Exits non-zero
# on a lane error (a patch that does not apply, a failed build) or a miss
# whose header gives no reason.
#
#   ci/mutants.sh                       every mutant
#   MUTANTS="sync-c2h-bounce dma-bits-unchecked" ci/mutants.sh   those
#   REPORT=docs/mutants.md ci/mutants.sh  also write the report there
#   MUTANTS_LOCK=FILE   run each mutant under flock FILE (a machine-wide
#                       CPU lock), released between mutants
#   MUTANTS_FURTHER     see ci/mutant.sh (default "6.1:all")
#   MUTANTS_BASELINE=0  do not first run the named tries without mutants
#   MUTANTS_RUN=0       run nothing: the report of the results already in
#                       build/mutants/results/ (runs split over several
#                       lock holds, say)
#
# Every mutant runs on a QEMU private to the lane: the checkout's own
# ci/qemu.sh, run with SGDMA_CACHE=$SGDMA_CACHE/mutants from a tree of the
# lane's whose qemu-device/ is the mutant's (or the checkout's, for a
# driver mutant); its source (fetched once, as ci/qemu.sh does) and its
# build are the lane's, and ninja recompiles only the device per mutant.
# A mutant never writes to the checkout's tree or to the shared QEMU and
# kernel builds.
set -euo pipefail
ci=$(cd "$(dirname "$0")" && pwd)
. "$ci/common.sh"

out=$SGDMA_TOP/build/mutants
dir=$SGDMA_TOP/tests/mutants
if [ -n "${MUTANTS:-}" ]; then
    read -ra names <<<"$MUTANTS"
else
    names=()
    for p in "$dir"/*.patch; do
        p=${p##*/}
        names+=("${p%.patch}")
    done
fi
[ "${#names[@]}" -gt 0 ] || die "no mutants in $dir"

lock=()
[ -z "${MUTANTS_LOCK:-}" ] || lock=(flock "$MUTANTS_LOCK")
mkdir -p "$out/results"
# First the tries the mutants name, each on the checkout as it is: one that
# fails there would "catch" every mutant (MUTANTS_BASELINE=0: skip this).
if [ "${MUTANTS_RUN:-1}" != 0 ] && [ "${MUTANTS_BASELINE:-1}" != 0 ]; then
    mapfile -t specs < <("$ci/mutant.sh" --list-tries "${names[@]}")
    for t in "${specs[@]}"; do
        "${lock[@]}" flock "$SGDMA_CACHE/.lock-mutants" \
            "$ci/mutant.sh" --baseline "$t" || die "baseline run of '$t' failed"
    done
fi
for n in "${names[@]}"; do
    [ "${MUTANTS_RUN:-1}" != 0 ] || break
    rm -f "$out/results/$n.tsv"
    # One lane at a time on the machine: they share the private QEMU.
    "${lock[@]}" flock "$SGDMA_CACHE/.lock-mutants" "$ci/mutant.sh" "$n" ||
        printf '%s\t?\terror\tci/mutant.sh failed\t0\t-\n' "$n" >"$out/results/$n.tsv"
done

# The report: the table, each miss with its written reason, the tally.
caught=0 missed=0 errors=0 unexplained=0
{
    echo "# Mutation lane report"
    echo
    echo "Checkout $(git -C "$SGDMA_TOP" describe --always --dirty 2>/dev/null || echo '?'),"
    if [ "${MUTANTS_RUN:-1}" != 0 ]; then
        echo "$(date -u '+%Y-%m-%d %H:%M UTC'), \`ci/mutants.sh\` (further cells: ${MUTANTS_FURTHER:-6.1:all})."
    else
        echo "$(date -u '+%Y-%m-%d %H:%M UTC'): the results of earlier runs (\`MUTANTS_RUN=0\`)."
    fi
    echo
    echo "| mutant | class | caught by | seconds |"
    echo "|--------|-------|-----------|---------|"
    for n in "${names[@]}"; do
        if [ ! -f "$out/results/$n.tsv" ]; then
            printf '%s\t?\terror\tnot run\t0\t-\n' "$n" >"$out/results/$n.tsv"
        fi
        IFS=$'\t' read -r m class status by secs why <"$out/results/$n.tsv"
        case $status in
        caught) caught=$((caught + 1)); what=$by ;;
        missed) missed=$((missed + 1)); what=MISSED ;;
        *)      errors=$((errors + 1)); what="ERROR: $by" ;;
        esac
        echo "| $m | $class | ${what//|/\\|} | $secs |"
    done
    echo
    if [ "$missed" -gt 0 ] || [ "$errors" -gt 0 ]; then
        echo "## Missed, and why this rig cannot see them yet"
        echo
        for n in "${names[@]}"; do
            IFS=$'\t' read -r m class status by secs why <"$out/results/$n.tsv"
            [ "$status" != caught ] || continue
            [ "$why" != - ] || why=
            [ "$status" = missed ] || why="lane error: $by"
            [ -n "$why" ] || unexplained=$((unexplained + 1))
            echo "- **$m** ($class): ${why:-NO REASON WRITTEN in its header}"
        done
        echo
    fi
    [ "$errors" = 0 ] || echo "$errors errors (counted as missed)"
    echo "$caught caught, $((missed + errors)) missed"
} >"$out/report.md"
cat "$out/report.md"
if [ -n "${REPORT:-}" ]; then
    mkdir -p "$(dirname "$SGDMA_TOP/$REPORT")"
    cp "$out/report.md" "$SGDMA_TOP/$REPORT"
    log "report written to $REPORT"
fi
# A lane error, or a miss nobody explained, fails the lane.
[ "$errors" = 0 ] && [ "$unexplained" = 0 ]
