// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * memcpy bandwidth by size: the ceiling any emulated DMA is measured
 * against on the host, and what the copy path competes with in the guest.
 *
 *   sgdma_membench [-s SIZES] [-r REPS] [-t MIN_MS] [-l LABEL]
 *
 * Prints bench.h's CSV rows with path LABEL (default "memcpy"). Source and
 * destination are distinct, pre-faulted buffers.
 */
#define _GNU_SOURCE
#include "bench.h"

struct membench {
	char *src;
	char *dst;
};

static int do_memcpy(void *ctx, size_t len)
{
	struct membench *m = ctx;

	memcpy(m->dst, m->src, len);
	/* Keep the copy: the compiler may not drop a store it cannot see used. */
	__asm__ volatile("" : : "r"(m->dst) : "memory");
	return 0;
}

int main(int argc, char **argv)
{
	struct bench_opts o = { .reps = 5, .min_ms = 100, .label = "memcpy" };
	struct membench m;
	int status, arg;

	bench_parse_sizes(&o, "4k,64k,1m,16m,64m");
	arg = bench_parse_args(argc, argv, &o, "", &status);
	if (arg < 0)
		return status;
	if (arg != argc || o.nr_depths || o.lat_path) {
		fprintf(stderr, "%s: no operands, -q or -L expected\n",
			argv[0]);
		return 2;
	}
	m.src = bench_alloc(bench_max_size(&o), 0x5a);
	m.dst = bench_alloc(bench_max_size(&o), 0xa5);
	if (!m.src || !m.dst) {
		perror("sgdma_membench: buffer");
		return 1;
	}
	return bench_run(&o, "-", do_memcpy, &m) ? 1 : 0;
}
