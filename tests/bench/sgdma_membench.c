// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * memcpy bandwidth by size: the ceiling any emulated DMA is measured
 * against on the host, and what the copy path competes with in the guest.
 *
 *   sgdma_membench [-s SIZES] [-r REPS] [-t MIN_MS] [-l LABEL]
 *
 * Prints bench.h's CSV rows with path "memcpy-LABEL" (default "memcpy").
 * Source and destination are distinct, pre-faulted buffers.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <sys/mman.h>
#include <unistd.h>

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

static void *alloc_touched(size_t len, int byte)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, byte, len);
	return p;
}

int main(int argc, char **argv)
{
	struct bench_opts o = { .reps = 5, .min_ms = 100 };
	char path[64] = "memcpy";
	struct membench m;
	size_t max;
	int c;

	bench_parse_sizes(&o, "4k,64k,1m,16m,64m");
	while ((c = getopt(argc, argv, "s:r:t:l:h")) != -1) {
		if (c == 'l') {
			snprintf(path, sizeof(path), "memcpy-%s", optarg);
			continue;
		}
		if (c == 'h' || bench_parse_common(&o, c, optarg)) {
			fprintf(c == 'h' ? stdout : stderr,
				"usage: %s [-s SIZES] [-r REPS] [-t MIN_MS] [-l LABEL]\n",
				argv[0]);
			return c == 'h' ? 0 : 2;
		}
	}
	max = bench_max_size(&o);
	m.src = alloc_touched(max, 0x5a);
	m.dst = alloc_touched(max, 0xa5);
	if (!m.src || !m.dst) {
		perror("sgdma_membench: mmap");
		return 1;
	}
	return bench_run(&o, path, "-", do_memcpy, &m) ? 1 : 0;
}
