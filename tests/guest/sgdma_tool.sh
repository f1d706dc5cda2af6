#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Guest test of the sgdma command-line tool (and so of libsgdma, which it
# links statically) against the real driver and device: every command, its
# output and exit status, and the error cases scripts rely on. KTAP.
# Installed in the initramfs as tests/sgdma_tool; needs /sgdma/sgdma.
PATH=/sgdma:$PATH
T=/tmp/sgdma_tool.$$
mkdir -p $T
n=0
failed=0
PLAN=21
echo "KTAP version 1"
echo "1..$PLAN"

# Pages pinned and not released, system-wide (/proc/vmstat), and pages the
# sgdma driver holds pinned (every device's pages_pinned).
pins_outstanding() {
	echo 1 >/proc/sys/vm/stat_refresh 2>/dev/null
	awk '$1 == "nr_foll_pin_acquired" { a = $2; seen++ }
	     $1 == "nr_foll_pin_released" { r = $2; seen++ }
	     END { print seen == 2 ? a - r : "missing" }' /proc/vmstat
}

driver_pins() {
	held=0
	for f in /sys/class/sgdma/*/pages_pinned; do
		[ -r "$f" ] && held=$((held + $(cat "$f")))
	done
	echo $held
}

# pins_balanced BEFORE: every pin since BEFORE (pins_outstanding) was
# released and the driver holds none.
pins_balanced() {
	now=$(pins_outstanding)
	held=$(driver_pins)
	[ "$1" != missing ] && [ "$now" = "$1" ] && [ "$held" = 0 ] && return 0
	echo "pins: outstanding $1 before the case, $now after;" \
	     "the driver holds $held pages"
	return 1
}

# case NAME: runs the function NAME; it fails by returning non-zero, or if
# it leaves a page pinned.
case_() {
	n=$((n + 1))
	pins=$(pins_outstanding)
	if "$1" >$T/log 2>&1 && pins_balanced "$pins" >>$T/log; then
		echo "ok $n $1"
	else
		failed=$((failed + 1))
		# awk ends every line, even binary output without a newline.
		tail -25 $T/log | awk '{ print "# " $0 }'
		echo "not ok $n $1"
	fi
}

# skip NAME NEEDS WHY: a case this boot cannot run, for want of the
# features NEEDS (the harness' vocabulary: the judge fails a skip whose
# needs the boot provides).
skip() {
	n=$((n + 1))
	echo "ok $n $1 # SKIP needs=$2: $3"
}

# x STATUS CMD...: runs CMD, output in $T/out, and checks its exit status.
x() {
	want=$1
	shift
	"$@" >$T/out 2>&1
	st=$?
	if [ $st != "$want" ]; then
		echo "'$*' exited $st, expected $want:"
		cat $T/out
		return 1
	fi
	return 0
}

# has REGEX: the last command's output matches.
has() {
	grep -Eq -- "$1" $T/out && return 0
	echo "output does not match /$1/:"
	cat $T/out
	return 1
}

card=$(sgdma info --json 2>/dev/null | sed -n 's/.*"card_size": \([0-9]*\).*/\1/p')
[ -n "$card" ] || card=0

info() {
	x 0 sgdma info && has '^abi version: +4$' &&
		has "^card memory: +$card bytes" &&
		has '^capabilities: .*crc32c.* buffers mmap-card$' &&
		has '^device: +/dev/sgdma0$' || return 1
	x 0 sgdma -d 1 info && has '^device: +/dev/sgdma1$' || return 1
	x 0 sgdma info -d /dev/sgdma1 && has '^device: +/dev/sgdma1$' || return 1
	x 0 sgdma info --json && has '^\{"device": "/dev/sgdma0", "abi_version": 4, ' &&
		has '"irq_mode": "(intx|msi|msi-x)"\}$' &&
		[ "$card" -ge 4194304 ]
}

# 300001 bytes: odd length, several chunks of 64 KiB.
dd if=/dev/urandom of=$T/a bs=1000 count=300 2>/dev/null
printf 'x' >>$T/a
len=300001

write_read_file() {
	x 0 sgdma write -o 4096 -i $T/a -c 64k --crc &&
		has '^wrote 300001 bytes at 0x1000, crc32c 0x[0-9a-f]{8}$' ||
		return 1
	wcrc=$(sed -n 's/.*crc32c //p' $T/out)
	x 0 sgdma -Q read -o 4096 -l $len -O $T/b -c 64k || return 1
	cmp $T/a $T/b || return 1
	x 0 sgdma read -o 0x1000 -l $len -O $T/b --crc &&
		has "^read 300001 bytes at 0x1000, crc32c $wcrc\$" &&
		cmp $T/a $T/b || return 1
	# Where the tool says it wrote: read independently through the node.
	dd if=/dev/sgdma0 of=$T/c bs=4096 skip=1 count=74 2>/dev/null &&
		head -c $len $T/c >$T/d && cmp $T/a $T/d
}

# The pinned path needs lengths in multiples of seg_align (64 in the strict
# cell): $T/a64 is $T/a cut to a multiple of 4 KiB.
head -c 299008 $T/a >$T/a64

paths_stdin_stdout() {
	for p in copy pinned auto node; do
		f=$T/a
		[ $p = pinned ] && f=$T/a64
		l=$(wc -c <$f)
		sgdma write -P $p -o 8192 -l $l <$f >$T/out 2>&1 ||
			{ echo "write -P $p failed:"; cat $T/out; return 1; }
		sgdma read -P $p -o 8192 -l $l >$T/b 2>$T/out ||
			{ echo "read -P $p failed:"; cat $T/out; return 1; }
		cmp $f $T/b || { echo "path $p: data differs"; return 1; }
		# Only the data on stdout: no summary mixed in.
		[ ! -s $T/out ] || { echo "read wrote to stderr:"; cat $T/out; return 1; }
	done
}

stdin_until_eof() {
	cat $T/a | sgdma write -o 65536 >$T/out 2>&1 &&
		has '^wrote 300001 bytes at 0x10000$' || return 1
	sgdma read -o 65536 -l $len | cmp - $T/a
}

read_default_length() {
	# Without -l, read runs to the end of card memory.
	x 0 sgdma read -o $((card - 5000)) -O $T/b &&
		[ "$(wc -c <$T/b)" -eq 5000 ]
}

copy_files() {
	rm -f $T/c
	x 0 sgdma copy -i $T/a -O $T/c -c 64k --crc &&
		has '^copied 300001 bytes, crc32c 0x[0-9a-f]{8}$' &&
		cmp $T/a $T/c || return 1
	for p in copy pinned auto; do
		sgdma -Q copy -P $p <$T/a64 >$T/c && cmp $T/a64 $T/c ||
			{ echo "copy -P $p"; return 1; }
	done
	x 0 sgdma copy -i $T/a -O $T/c -l 1000 && [ "$(wc -c <$T/c)" = 1000 ] &&
		head -c 1000 $T/a | cmp - $T/c
}

fill_patterns() {
	x 0 sgdma fill -o 4096 -l 65536 -p 0x5a &&
		has '^filled 65536 bytes at 0x1000$' || return 1
	head -c 65536 /dev/zero | tr '\0' 'Z' >$T/z
	sgdma read -o 4096 -l 65536 | cmp - $T/z || return 1
	x 0 sgdma fill -o 4096 -l 4096 -p incr -P pinned || return 1
	[ "$(sgdma read -o 4096 -l 16 | hexdump -v -e '16/1 "%02x"')" = \
	  00000000010000000200000003000000 ] || { echo "incr wrong"; return 1; }
	# Chunks do not restart the pattern: word 16384 sits at byte 65536.
	x 0 sgdma fill -o 0 -l 65540 -p incr -c 4096 || return 1
	[ "$(sgdma read -o 65536 -l 4 | hexdump -v -e '4/1 "%02x"')" = 00400000 ] ||
		{ echo "incr restarted at a chunk"; return 1; }
	head -c 8192 /dev/zero >$T/z
	x 0 sgdma fill -o 0 -l 8192 -P node && sgdma read -l 8192 | cmp - $T/z
}

verify_paths() {
	for p in copy pinned auto; do
		x 0 sgdma verify -o 1M -l 1M -P $p &&
			has "^verified 1048576 bytes at 0x100000 \\($p path, crc32c\\)\$" ||
			return 1
	done
	x 0 sgdma verify -o 3 -l 100001 -P node -p incr &&
		has '^verified 100001 bytes at 0x3 \(node path\)$' || return 1
	# The written pattern is really there, read by other means.
	x 0 sgdma verify -o 0 -l 4096 -p ones || return 1
	head -c 4096 /dev/zero | tr '\0' '\377' >$T/z
	sgdma read -l 4096 | cmp - $T/z
}

verify_whole_card() {
	x 0 sgdma verify -c 4M && has "^verified $card bytes at 0x0 "
}

selftest() {
	x 0 sgdma selftest -o 1M && has '^1\.\.8$' && has '^ok 8 queue$' &&
		! grep -q 'not ok' $T/out && has '^# 8 passed, 0 failed$'
}

# bench: CSV with every path and direction; each row's fields checked.
bench_csv() {
	x 0 sgdma bench -s 4k,64k -P copy,pinned,auto,node -D all -r 2 \
		--warmup 1 --iters 4 --verify -f csv --no-progress || return 1
	cp $T/out $T/bench.csv
	head -1 $T/out | grep -qx 'path,direction,size,threads,qd,reps,iters,median_MBps,min_MBps,max_MBps,mean_MBps,stddev_MBps,median_lat_us,verified' ||
		{ echo "bad header"; cat $T/out; return 1; }
	# 3 DMA paths x 3 directions + node x 2, by 2 sizes.
	[ "$(tail -n +2 $T/out | wc -l)" = 22 ] || { echo "rows"; cat $T/out; return 1; }
	tail -n +2 $T/out | awk -F, '
		NF != 14 || $3 !~ /^(4096|65536)$/ || $4 != 1 || $5 != 1 ||
		$6 != 2 || $7 != 4 || !($8 > 0) || !($9 > 0) || $9 > $8 ||
		$8 > $10 || !($13 > 0) || $14 != 1 { print "bad row: " $0; bad = 1 }
		!seen[$1 "/" $2]++ { k++ }
		END {
			if (k != 11) { print "combinations: " k; bad = 1 }
			if (seen["node/h2h"]) { print "node h2h measured"; bad = 1 }
			exit bad
		}'
}

bench_json_threads_qd() {
	x 0 sgdma bench -s 16k -P pinned -D h2c,c2h -t 2 -q 4 -r 3 --rep-time 0.02 \
		--verify -f json --no-progress || return 1
	has '^\[$' && has '^\]$' || return 1
	[ "$(grep -c '"path": "pinned"' $T/out)" = 2 ] &&
		[ "$(grep -c '"threads": 2, "qd": 4, "reps": 3' $T/out)" = 2 ] &&
		has '"verified": true\}$'
}

bench_table_progress() {
	# --progress draws on stderr; the table stays clean on stdout.
	sgdma bench -s 4k -P copy -D h2c -r 1 --iters 2 --progress \
		>$T/out 2>$T/err || return 1
	has '^path +dir +size +thr +qd +reps +iters +MB/s med' &&
		has '^copy +h2c +4096 +1 +1 +1 +2 ' &&
		grep -q '\[' $T/err
}

align=$(sgdma info --json 2>/dev/null | sed -n 's/.*"seg_align": \([0-9]*\).*/\1/p')

# Where the device wants aligned segments, the tool says why pinned fails.
pinned_alignment() {
	x 2 sgdma write -P pinned -l 100 -i $T/a &&
		has "pinned path of this device moves multiples of $align bytes" ||
		return 1
	x 2 sgdma verify -P pinned -l 4097 && has "multiples of $align bytes" ||
		return 1
	x 2 sgdma bench -P pinned -s 100 && has "multiples of $align bytes" ||
		return 1
	cat $T/a | sgdma copy -P pinned -O $T/c >$T/out 2>&1
	[ $? = 2 ] && has "not 300001; use -P copy or auto"
}

missing_node() {
	x 3 sgdma -d /dev/nonexistent info &&
		has 'no such device node \(the sgdma module is loaded' || return 1
	x 3 sgdma -d 77 verify && has '/dev/sgdma77: no such device node'
}

not_a_device() {
	x 3 sgdma -d /dev/null info && has 'not an sgdma device node'
}

out_of_range() {
	x 2 sgdma read -o $card -l 1 -O $T/b && has 'outside card memory' || return 1
	x 2 sgdma write -o $((card - 1)) -l 2 -i $T/a && has 'outside card memory' || return 1
	x 2 sgdma fill -o $((card + 4096)) && has 'outside card memory' || return 1
	x 2 sgdma verify -l $((card + 1)) && has 'outside card memory' || return 1
	x 2 sgdma bench -s $card -t 2 && has 'outside card memory' || return 1
	x 2 sgdma selftest -o $((card - 4096)) && has 'outside card memory' || return 1
	head -c 8192 /dev/zero >$T/z
	# A pipe has no size to check first: the tool notices at the end.
	cat $T/z | sgdma write -o $((card - 4096)) -i - >$T/out 2>&1
	[ $? = 2 ] && has 'input is longer than card memory'
}

usage_errors() {
	x 2 sgdma bench -t 0 && has "threads '0' is out of range" || return 1
	x 2 sgdma frob && has "unknown command 'frob'" || return 1
	x 0 sgdma bench --help && has '^exit status:' && has '  5  data or CRC mismatch'
}

input_errors() {
	x 1 sgdma write -i $T/nonexistent && has 'No such file' || return 1
	x 1 sgdma write -l 400000 -i $T/a && has 'ended after 300001 of 400000 bytes' || return 1
	x 1 sgdma read -l 10 -O /nonexistent-dir/f && has 'No such file'
}

# Runs a command without root's privileges over files: in a new user
# namespace (root's files there belong to nobody it knows), else as nobody.
as_nobody() {
	if [ "$drop" = unshare ]; then
		unshare -U "$@"
	else
		su -s /bin/sh nobody -c "$*"
	fi
}

permission_denied() {
	[ "$(as_nobody id -u 2>&1)" = 65534 ] ||
		{ echo "cannot drop privileges (unshare -U, su)"; return 1; }
	# A copy of the node nobody may not open, whatever devtmpfs says.
	rm -f $T/node
	mknod $T/node c $((0x$(stat -c %t /dev/sgdma0))) \
		$((0x$(stat -c %T /dev/sgdma0))) &&
		chmod 000 $T/node && chmod 755 $T || return 1
	x 0 sgdma -d $T/node info || return 1	# root still may
	x 4 as_nobody /sgdma/sgdma -d $T/node info &&
		has "$T/node: permission denied" || return 1
	x 4 as_nobody /sgdma/sgdma -d $T/node read -l 1 -O /dev/null &&
		has 'permission denied \(run as root'
}

module_not_loaded() {
	rmmod sgdma || { echo "rmmod failed"; return 1; }
	x 3 sgdma info && has 'the sgdma module is not loaded'
	st=$?
	modprobe sgdma || { echo "modprobe failed"; return 1; }
	i=0
	while [ ! -e /dev/sgdma1 ] && [ $i -lt 50 ]; do
		usleep 100000
		i=$((i + 1))
	done
	[ $st = 0 ] && x 0 sgdma info
}

case_ info
case_ write_read_file
case_ paths_stdin_stdout
case_ stdin_until_eof
case_ read_default_length
case_ copy_files
case_ fill_patterns
case_ verify_paths
case_ verify_whole_card
case_ selftest
case_ bench_csv
# The figures, for the record (TCG: not a speed test).
[ -f $T/bench.csv ] && awk '{ print "# " $0 }' $T/bench.csv
case_ bench_json_threads_qd
case_ bench_table_progress
if [ "${align:-1}" -gt 1 ]; then
	case_ pinned_alignment
else
	skip pinned_alignment strict-device \
		"the device has no alignment rule (seg_align ${align:-unknown})"
fi
case_ missing_node
case_ not_a_device
case_ out_of_range
case_ usage_errors
case_ input_errors
# su needs the users in /etc/passwd; the initramfs may have none.
mkdir -p /etc
for u in root:x:0:0:root:/:/bin/sh nobody:x:65534:65534:nobody:/:/bin/sh; do
	grep -q "^${u%%:*}:" /etc/passwd 2>/dev/null || echo "$u" >>/etc/passwd
done
for g in root:x:0: nogroup:x:65534:; do
	grep -q "^${g%%:*}:" /etc/group 2>/dev/null || echo "$g" >>/etc/group
done
drop=unshare
[ "$(as_nobody id -u 2>/dev/null)" = 65534 ] || drop=su
# Every boot can drop root's privileges: a failure to do so fails the case.
echo "# permission_denied: unprivileged by $drop ($(as_nobody id -u 2>&1))"
case_ permission_denied
case_ module_not_loaded

rm -rf $T
[ $n = $PLAN ] || echo "# planned $PLAN, ran $n"
[ $failed = 0 ] && [ $n = $PLAN ]
