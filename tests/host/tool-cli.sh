#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Host tests of the sgdma tool up to where it would need a device: help,
# option parsing, range checks, exit codes and messages. Prints TAP.
#
#   tests/host/tool-cli.sh MESON_BUILD_DIR
set -u
tool=${1:?usage: $0 MESON_BUILD_DIR}/tests/host/sgdma-host
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
n=0 failed=0
as=()     # a command prefix to run the tool as another user
plan=50

# t NAME EXPECTED_STATUS REGEX_OF_OUTPUT ARGS...: runs the tool with ARGS,
# expecting the exit status and (stdout + stderr) matching the regex.
t() {
    local name=$1 want=$2 re=$3 st
    shift 3
    "${as[@]}" "$tool" "$@" >"$tmp/out" 2>&1 </dev/null
    st=$?
    n=$((n + 1))
    if [ "$st" = "$want" ] && grep -Eq -- "$re" "$tmp/out" &&
       ! grep -Eq 'Sanitizer|runtime error' "$tmp/out"; then
        echo "ok $n $name"
    else
        failed=$((failed + 1))
        echo "# sgdma $*: exit $st (want $want), output (want /$re/):"
        sed 's/^/#   /' "$tmp/out" | head -20
        echo "not ok $n $name"
    fi
}

commands="info write read copy fill verify bench selftest"
echo "TAP version 13"
echo "1..$plan"

t help 0 'exit status:' --help
for c in $commands; do
    t "help_lists_$c" 0 "^  $c " --help
done
for c in $commands; do
    t "${c}_help" 0 "usage: sgdma $c .*" "$c" --help
done
t help_command 0 'usage: sgdma bench' help bench
t version 0 '^sgdma [0-9]+\.[0-9]+\.[0-9]+ \(libsgdma [0-9.]+, uapi ABI [0-9]+\)' -V
t no_command 2 'usage: sgdma' 
t unknown_command 2 "unknown command 'frob'" frob
t unknown_option 2 "bad or incomplete option '--bogus'" write --bogus
t missing_argument 2 "option '-l' needs an argument|bad or incomplete option" read -l
t extra_argument 2 "unexpected argument 'extra'" info extra
t bad_size 2 "offset '12q' is not a size" read -o 12q
t size_overflow 2 "offset '99999999999999999999' is out of range" read -o 99999999999999999999
t bad_path 2 "unknown path 'bogus'" write -P bogus
t copy_node_path 2 'node path has no host-to-host' copy -P node
t poll_help 0 '--poll +poll for each transfer' read --help
t poll_node_path 2 '--poll needs a path other than node' read -P node --poll
t poll_accepted 3 'no such device node' write -d /nonexistent/sgdma0 -P pinned --poll -l 4k
t bad_pattern 2 "unknown pattern 'bogus'" fill -p bogus
t chunk_zero 2 "chunk '0' is out of range" read -c 0
t chunk_too_big 2 "chunk '2G' is out of range" read -c 2G
t bench_bad_sizes 2 "bad size list '4k,,8k'" bench -s 4k,,8k
t bench_size_range 2 "bad size list '8k..4k'" bench -s 8k..4k
t bench_too_big 2 'over the 1 GiB transfer limit' bench -s 2G
t bench_threads_0 2 "threads '0' is out of range \(1 to 64\)" bench -t 0
t bench_qd_big 2 "qd '257' is out of range" bench -q 257
t bench_bad_format 2 "unknown format 'xml'" bench -f xml
t bench_bad_paths 2 "bad path list 'copy,bogus'" bench -P copy,bogus
t bench_bad_dirs 2 "bad direction list 'up'" bench -D up
t bench_node_qd 2 'node path has no queue' bench -P node -q 4
t bench_rep_time 2 "rep-time '0' is out of range" bench --rep-time 0

# Devices that are not there, by path and by index; the module's absence.
if [ -e /sys/module/sgdma ]; then
    nomod='module is loaded'
else
    nomod='module is not loaded'
fi
t missing_node 3 "/nonexistent/sgdma0: no such device node: .*$nomod" -d /nonexistent/sgdma0 info
t missing_index 3 "/dev/sgdma200: no such device node" -d 200 info
t command_device_wins 3 '/nonexistent/b: no such' -d /nonexistent/a info -d /nonexistent/b
: >"$tmp/plain"
t not_a_device 3 'not an sgdma device node' -d "$tmp/plain" info
t missing_node_bench 3 'no such device node' -d /nonexistent/sgdma0 bench -s 4k

# Permission denied: as an unprivileged user on a node it cannot open.
chmod 600 "$tmp/plain"
chmod 755 "$tmp"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    t permission_denied 4 "permission denied" -d "$tmp/plain" info
    as=()
elif [ "$(id -u)" != 0 ]; then
    t permission_denied 4 "permission denied" -d "$tmp/plain" info
else
    n=$((n + 1))
    echo "ok $n permission_denied # SKIP no setpriv to drop root"
fi

echo "# $((n - failed)) passed, $failed failed"
[ "$n" = "$plan" ] || { echo "# planned $plan, ran $n"; exit 1; }
[ "$failed" = 0 ]
