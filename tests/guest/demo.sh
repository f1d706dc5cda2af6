#!/bin/sh
# Runs in the guest for "make run": the device, the driver bound to it, and
# a round trip through both.
step() { printf '\n=== %s\n' "$*"; }

step "sgdma PCI functions before the driver loads"
lspci -nnk -d 1234:5347

step "loading the driver"
modprobe sgdma && dmesg | grep -E 'sgdma[ :]'

step "the driver bound to every function"
lspci -nnk -d 1234:5347
ls -l /dev/sgdma*

step "identity through the INFO ioctl"
sgdma -d 0 info

step "DMA through card memory: dd to /dev/sgdma0 and back"
dd if=/dev/urandom of=/tmp/a bs=64k count=16 2>/dev/null
dd if=/tmp/a of=/dev/sgdma0 bs=64k 2>/dev/null
dd if=/dev/sgdma0 of=/tmp/b bs=64k count=16 2>/dev/null
if cmp /tmp/a /tmp/b; then echo "1 MiB DMA round trip: identical"; fi
echo "device counters: $(cat /sys/class/sgdma/sgdma0/transfers) transfers," \
     "$(cat /sys/class/sgdma/sgdma0/bytes) bytes"

step "scratch register round trip through the driver"
f=/sys/class/sgdma/sgdma0/scratch
echo "before:  $(cat $f)"
echo "writing: 0xc0ffee42"
echo 0xc0ffee42 >$f
got=$(cat $f)
echo "read:    $got"
if [ "$got" = 0xc0ffee42 ]; then echo "round trip OK"; else echo "round trip FAILED"; fi
