#!/bin/bash
# Fuzz the device as upstream QEMU fuzzes its devices: the generic-fuzz
# target of qemu-fuzz-x86_64, built with clang's libFuzzer, ASan and UBSan
# from the pinned QEMU 7.2 source, with the sgdma configurations of
# tests/fuzz/sgdma-fuzz-configs.h.
#
#   ci/fuzz.sh build              build what is missing, print the binary
#   ci/fuzz.sh run SECONDS        fuzz every sgdma target in turn, SECONDS
#                                 in all, from the committed seeds and the
#                                 corpus earlier runs kept
#   ci/fuzz.sh smoke [SECONDS]    a short run (60 s) from the seeds only:
#                                 TAP, one case per target and per crash
#                                 script of tests/fuzz/repro/ (replayed),
#                                 for make test
#
# FUZZ_TARGETS="sgdma sgdma-ats" picks targets. A run ends non-zero on any
# crash; each crash input is in build/fuzz/<target>/crashes/, with the
# qtest-protocol script that replays it (crash-*.qtest: run it with
# tests/fuzz/replay.py QEMU SCRIPT) beside it.
set -euo pipefail
ci=$(dirname "$0")
. "$ci/common.sh"

line=7.2
targets=${FUZZ_TARGETS:-sgdma sgdma-timing sgdma-limits sgdma-ats}
out=$SGDMA_TOP/build/fuzz

# --- the build ---
# A source tree of its own (src-fuzz, hard links to the unpacked source):
# the shared tree's hw/sgdma points at whichever checkout built last, under
# the "qemu" cache lock, and a fuzz build takes too long to hold that lock.
# So the fuzz tree and build have a lock of their own, and the binary is
# copied into this checkout's build/ before it runs.
build_fuzzer() {
    local src qroot fsrc build conf sources
    # Debian's clang with its libFuzzer and sanitizer runtimes; the
    # symbolizer for readable reports.
    with_cache_lock apt "$ci/host-deps.sh" clang libfuzzer-14-dev \
        libclang-rt-14-dev llvm-14 >&2
    src=$(with_cache_lock qemu "$ci/qemu.sh" source "$line")
    qroot=$(dirname "$src")
    fsrc=$qroot/src-fuzz
    build=$qroot/build-fuzz
    if [ ! -f "$fsrc/.sgdma-fuzz-copied" ]; then
        log "making the fuzz source tree $fsrc"
        rm -rf "$fsrc"
        cp -al "$src" "$fsrc"
        touch "$fsrc/.sgdma-fuzz-copied"
    fi
    # Links are per checkout; files edited here are replaced, never
    # written in place (they are hard links into the shared tree).
    ln -sfn "$SGDMA_TOP/qemu-device" "$fsrc/hw/sgdma"
    ln -sfn "$SGDMA_TOP/tests/qtest/sgdma-test.c" "$fsrc/tests/qtest/sgdma-test.c"
    ln -sfn "$SGDMA_TOP/tests/fuzz/sgdma-fuzz-configs.h" \
        "$fsrc/tests/qtest/fuzz/sgdma-fuzz-configs.h"
    local cfg=$fsrc/tests/qtest/fuzz/generic_fuzz_configs.h
    if ! grep -q sgdma-fuzz-configs.h "$cfg"; then
        awk '{ print } $0 == "const generic_fuzz_config predefined_configs[] = {" {
            print "#include \"sgdma-fuzz-configs.h\"" }' "$cfg" >"$cfg.sgdma"
        mv "$cfg.sgdma" "$cfg"
        grep -q sgdma-fuzz-configs.h "$cfg" ||
            die "could not hook sgdma into generic_fuzz_configs.h"
    fi

    conf=(--target-list=x86_64-softmmu --disable-docs --disable-tools
          --disable-user --disable-werror --without-default-features
          --enable-fdt=system --enable-fuzzing --enable-sanitizers
          --firmwarepath=/usr/share/qemu:/usr/share/seabios
          --cc="ccache clang" --cxx="ccache clang++")
    if [ ! -f "$build/build.ninja" ] ||
       [ "$(cat "$build/.sgdma-conf" 2>/dev/null)" != "${conf[*]}" ]; then
        log "configuring QEMU $line (fuzz)"
        rm -rf "$build"
        mkdir -p "$build"
        (cd "$build" && CC=clang CXX=clang++ "$fsrc/configure" "${conf[@]}" \
            >configure.log 2>&1) ||
            { tail -n 30 "$build/configure.log" >&2; die "QEMU configure failed"; }
        echo "${conf[*]}" >"$build/.sgdma-conf"
    fi
    # As ci/qemu.sh: ninja compares only times, so the sgdma objects go
    # when the device sources (or the fuzz configurations) differ from
    # those the build was made from.
    sources=$(cat "$SGDMA_TOP"/qemu-device/* "$SGDMA_TOP/tests/fuzz/sgdma-fuzz-configs.h" |
              sha256sum | cut -d' ' -f1)
    if [ "$(cat "$build/.sgdma-sources" 2>/dev/null)" != "$sources" ]; then
        find "$build" \( -name '*sgdma*.o' -o -name '*_generic_fuzz.c.o' \
            -o -path '*/trace/trace-hw_sgdma.*' \) -delete
        rm -f "$build/.sgdma-sources"
    fi
    log "building qemu-fuzz-x86_64 in $build"
    # qemu-system-x86_64 too (a link of the same objects): the QEMU that
    # replays a crash's script with this checkout's device.
    ninja -C "$build" qemu-fuzz-x86_64 qemu-system-x86_64 >"$build/ninja.log" 2>&1 ||
        { grep -A20 -m5 -E 'error|FAILED' "$build/ninja.log" >&2; die "fuzz build failed"; }
    echo "$sources" >"$build/.sgdma-sources"
    mkdir -p "$out"
    install_if_changed "$build/qemu-fuzz-x86_64" "$out/qemu-fuzz-x86_64"
    install_if_changed "$build/qemu-system-x86_64" "$out/qemu-system-x86_64"
    link_firmware "$out"
    chmod +x "$out/qemu-fuzz-x86_64"
}

# --- the runs ---
# run_target TARGET SECONDS DIR: libFuzzer on generic-fuzz-TARGET from
# DIR/corpus (new inputs are kept there) and the seeds; its log and the
# crashes in DIR; prints one TAP line.
# generic-fuzz runs each input in a forked child; a child that crashes
# writes its input to crashes/ (libFuzzer's death callback) and the parent
# goes on, so crashes are counted from the files and from the sanitizer
# reports in the log, not from the exit status alone.
run_target() {
    local target=$1 secs=$2 dir=$3 status=0 log corpus crashes stats
    log=$dir/fuzz.log
    corpus=$dir/corpus
    crashes=$dir/crashes
    rm -rf "$dir/seeds" "$crashes"
    mkdir -p "$corpus" "$crashes"
    python3 "$SGDMA_TOP/tests/fuzz/seeds.py" "$dir/seeds" ||
        { echo "not ok - generic-fuzz-$target: no seeds"; return 1; }
    # UBSan's reports are crashes too; leaks are not looked for (the child
    # leaves with _Exit, the parent's leaks are QEMU's own at exit).
    ASAN_OPTIONS=detect_leaks=0:symbolize=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ASAN_SYMBOLIZER_PATH=$(command -v llvm-symbolizer || echo /bin/false) \
        "$out/qemu-fuzz-x86_64" --fuzz-target="generic-fuzz-$target" \
        -max_total_time="$secs" -timeout=60 -print_final_stats=1 \
        -artifact_prefix="$crashes/" "$corpus" "$dir/seeds" \
        >"$log" 2>&1 || status=$?
    local found
    found=$(find "$crashes" -type f \( -name 'crash-*' -o -name 'timeout-*' \
            -o -name 'oom-*' -o -name 'leak-*' \) | sort)
    local reports
    reports=$(grep -cE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' \
              "$log" || true)
    for f in $found; do
        replay_trace "$target" "$f" >"$f.qtest" 2>/dev/null || true
    done
    stats=$(awk -F': *' '
        /^stat::number_of_executed_units/ { runs = $NF }
        /^stat::average_exec_per_sec/     { eps = $NF }
        / cov: / { line = $0 }
        END {
            n = split(line, w, " ")
            for (i = 1; i < n; i++) {
                if (w[i] == "cov:") cov = w[i + 1]
                if (w[i] == "ft:") ft = w[i + 1]
            }
            printf "%s runs, %s exec/s, cov %s, ft %s", runs, eps, cov, ft
        }' "$log")
    stats+=", corpus $(find "$corpus" -type f | wc -l) inputs"
    stats+=", $(echo "$found" | grep -c . || true) crash inputs, $reports sanitizer reports"
    if [ -z "$found" ] && [ "$reports" = 0 ] && [ "$status" = 0 ]; then
        echo "ok - generic-fuzz-$target"
        echo "# $stats"
    else
        echo "not ok - generic-fuzz-$target"
        echo "# $stats, exit $status (log $log)"
        echo "$found" | head -n 5 | sed "s/^/#   /"
        grep -m3 -E 'ERROR: |runtime error:|SUMMARY' "$log" | sed 's/^/#   /'
        return 1
    fi
}

# replay_trace TARGET INPUT: the qtest-protocol script that replays INPUT
# on qemu-system-x86_64 with tests/fuzz/replay.py (upstream's way:
# QTEST_LOG, the DMA fills put before the command that triggered them).
# The script's first line gives QEMU's arguments.
replay_trace() {
    local src raw
    src=$(with_cache_lock qemu "$ci/qemu.sh" source "$line")
    raw=$(QTEST_LOG=1 FUZZ_SERIALIZE_QTEST=1 QEMU_FUZZ_TIMEOUT=0 \
          ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1 \
          "$out/qemu-fuzz-x86_64" --fuzz-target="generic-fuzz-$1" "$2" 2>&1 ||
          true)
    echo "# generic-fuzz-$1 input $(basename "$2")"
    sed -n 's/^Starting x86_64 with Arguments: -display none -machine accel=qtest, /# args: /p' \
        <<<"$raw" | sed 's/ -qtest .*//'
    # QEMU 7.2's qtest log puts a GLib warning after the [DMA] tag: the tag
    # goes on to the logged command it belongs to. The input may run twice
    # (libFuzzer runs a crashing input again): the trace ends at the first
    # sanitizer report.
    awk '/==[0-9]+==ERROR|runtime error:/ { exit }
         /^\[DMA\]/ && !/\[R \+/ { tag = "[DMA] "; next }
         { print tag $0; tag = "" }' <<<"$raw" |
        python3 "$src/scripts/oss-fuzz/reorder_fuzzer_qtest_trace.py" /dev/stdin
}

# run_all SECONDS KIND: every target, SECONDS shared among them; KIND
# "run" (build/fuzz/TARGET/, its corpus grown run after run) or "smoke"
# (build/fuzz/smoke/TARGET/, from the seeds only, then every crash found
# so far replayed from its script in tests/fuzz/repro/).
run_all() {
    local total=$1 kind=$2 n=0 failed=0 each t dir start repros=() r
    [ "$kind" != smoke ] || repros=("$SGDMA_TOP"/tests/fuzz/repro/*.qtest)
    [ -e "${repros[0]:-}" ] || repros=()
    set -- $targets   # one word per target
    each=$(( total / $# ))
    [ "$each" -gt 0 ] || each=1
    echo "1..$(( $# + ${#repros[@]} ))"
    start=$(date +%s)
    for t in $targets; do
        n=$((n + 1))
        dir=$out/$t
        if [ "$kind" = smoke ]; then
            dir=$out/smoke/$t
            rm -rf "$dir"
        fi
        run_target "$t" "$each" "$dir" | sed "s/^\(not \)\{0,1\}ok /&$n /" ||
            failed=1
    done
    for r in "${repros[@]}"; do
        n=$((n + 1))
        if python3 "$SGDMA_TOP/tests/fuzz/replay.py" "$out/qemu-system-x86_64" \
            "$r" >"$out/smoke/$(basename "$r").log" 2>&1; then
            echo "ok $n - replay $(basename "$r" .qtest)"
        else
            echo "not ok $n - replay $(basename "$r" .qtest)"
            grep -m3 -E 'ERROR: |runtime error:|replied|stopped|exit status' \
                "$out/smoke/$(basename "$r").log" | sed 's/^/#   /'
            failed=1
        fi
    done
    echo "# $# targets, $each s each, ${#repros[@]} crash scripts replayed," \
        "$(( $(date +%s) - start )) s in all"
    return $failed
}

case ${1:-} in
build)
    (flock 9 && build_fuzzer) 9>"$SGDMA_CACHE/.lock-fuzz"
    echo "$out/qemu-fuzz-x86_64"
    ;;
run)
    [ -n "${2:-}" ] || die "usage: ci/fuzz.sh run SECONDS"
    "$0" build >/dev/null
    run_all "$2" run
    ;;
smoke)
    "$0" build >/dev/null
    run_all "${2:-60}" smoke
    ;;
*)
    die "usage: ci/fuzz.sh build | run SECONDS | smoke [SECONDS]"
    ;;
esac
