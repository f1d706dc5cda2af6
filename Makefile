# sgdma: top-level driver for everything. See README.md.
#
#   make run      build what is missing, boot the VM, show a transfer
#   make test     build what is missing, run every test
#   make shell    boot the VM and leave an interactive guest shell
#
# Variables: KSERIES (guest kernel series: 6.1, 6.12, or debug: a 6.1
# built here with DMA-API debugging, KASAN, kmemleak, lockdep, UBSAN and
# fault injection, see ci/kernel-debug.sh), CELLS (boot only
# these cells of the matrix, e.g. CELLS=iommu-strict), TESTS (run only these
# guest programs, e.g. TESTS=sgdma_data), HOST=0 (skip qtests and checks).

KSERIES ?= 6.1
export KSERIES CELLS TESTS HOST

.PHONY: all build run shell test clean checkpatch

all: build

build:
	@ci/build.sh $(KSERIES) >/dev/null

run:
	@ci/run.sh run

shell:
	@ci/run.sh shell

test:
	@ci/test.sh

checkpatch:
	@ci/checkpatch.sh

# The QEMU and kernel caches live in ~/.cache/sgdma and are kept.
clean:
	rm -rf build
