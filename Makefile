# sgdma: top-level driver for everything. See README.md.
#
#   make run      build what is missing, boot the VM, show a transfer
#   make test     build what is missing, run every test
#   make shell    boot the VM and leave an interactive guest shell
#   make bench    measure every data path against its peers (report.md,
#                 CSV, plot in build/bench/); BENCH=qd: only the queue
#                 depths (build/bench-qd/)
#   make test-merge  one summary and JUnit file from the slices of a
#                 sharded run (SHARD=), build/test-results/shard-*/ or
#                 SHARDS="DIR..."
#   make test-build  build everything make test needs, run nothing (CI)
#   make fuzz     QEMU's generic-fuzz (libFuzzer, ASan, UBSan) on the
#                 device, FUZZ_SECONDS in all (default 600), see
#                 docs/fuzz.md
#   make mutants  the mutation lane: every seeded bug of tests/mutants/,
#                 caught or not (MUTANTS="a b" picks some; REPORT=docs/
#                 mutants.md also writes the report there)
#
# Variables: KSERIES (guest kernel series: 6.1, 6.12, or debug: a 6.1
# built here with DMA-API debugging, KASAN, kmemleak, lockdep, UBSAN and
# fault injection, see ci/kernel-debug.sh; make test boots every series of
# its matrix unless one is given), CELLS (boot only these cells, e.g.
# CELLS=iommu-strict, of 6.1 or of KSERIES), TESTS (run only these guest
# programs, e.g. TESTS=sgdma_data), HOST=0 (skip qtests and checks),
# QEMU (the QEMU line to build and boot: 7.2, Debian bookworm's, the
# default, or 10.0, trixie's; ci/qemu-versions pins each), LANE=full (make
# test adds the qtests on QEMU 7.2 and 10.0 built with ASan+UBSan, every
# cell of 6.12, and the fuzz smoke), KSRC (a configured, built
# kernel tree of your own, ci/sgdma-kernel.config merged: test, run and
# shell boot it as series ksrc, see README.md "Your own kernel"), JOBS
# (boots at once; default nproc/2), SHARD=i/N (make test runs the i-th of
# N balanced slices of its host checks, qtests and boots).

# KSERIES unset: make test boots the whole matrix (ci/test.sh), make
# build/run/shell use 6.1. The scripts take QEMU= as SGDMA_QEMU: their
# own QEMU is the path of a binary.
export KSERIES KSRC CELLS TESTS HOST LANE JOBS SHARD BENCH
export MUTANTS REPORT MUTANTS_LOCK MUTANTS_FURTHER MUTANTS_BASELINE MUTANTS_RUN
export SGDMA_QEMU = $(QEMU)
export FUZZ_TARGETS
FUZZ_SECONDS ?= 600

.PHONY: all build run shell test test-merge test-build bench mutants fuzz \
	clean checkpatch

all: build

build:
	@ci/build.sh $(or $(KSERIES),$(if $(KSRC),ksrc,6.1)) >/dev/null

run:
	@ci/run.sh run

shell:
	@ci/run.sh shell

test:
	@ci/test.sh

test-merge:
	@ci/test.sh --merge $(SHARDS)

test-build:
	@ci/test.sh --build-only

bench:
	@ci/bench.sh

mutants:
	@ci/mutants.sh

fuzz:
	@ci/fuzz.sh run $(FUZZ_SECONDS)

checkpatch:
	@ci/checkpatch.sh

# The QEMU and kernel caches live in ~/.cache/sgdma and are kept.
clean:
	rm -rf build
