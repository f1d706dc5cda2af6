// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma transfer bandwidth by size, path and direction, through libsgdma.
 *
 *   sgdma_xferbench [-s SIZES] [-r REPS] [-t MIN_MS] [-d DEVICE]
 *                   [-p PATH] [-o DIRECTION]
 *
 * Prints bench.h's CSV rows: path copy or pinned (the XFER path forced),
 * direction h2c (user buffer to card memory at 0), c2h (card memory to a
 * user buffer) or h2h (one user buffer to another through the device).
 * -p and -o measure only that path or direction.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"
#include "libsgdma.h"

struct xferbench {
	struct sgdma_dev *dev;
	char *a;
	char *b;
	uint32_t flags;
	int op;
};

static int do_xfer(void *ctx, size_t len)
{
	struct xferbench *x = ctx;

	switch (x->op) {
	case SGDMA_OP_H2C:
		return sgdma_write_card(x->dev, 0, x->a, len, x->flags, NULL);
	case SGDMA_OP_C2H:
		return sgdma_read_card(x->dev, 0, x->a, len, x->flags, NULL);
	default:
		return sgdma_copy(x->dev, x->b, x->a, len, x->flags, NULL);
	}
}

static void *alloc_touched(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0x5a, len);
	return p;
}

int main(int argc, char **argv)
{
	static const struct { const char *name; uint32_t flags; } paths[] = {
		{ "copy", SGDMA_XFER_COPY },
		{ "pinned", SGDMA_XFER_PINNED },
	};
	static const struct { const char *name; int op; } dirs[] = {
		{ "h2c", SGDMA_OP_H2C },
		{ "c2h", SGDMA_OP_C2H },
		{ "h2h", SGDMA_OP_H2H },
	};
	struct bench_opts o = { .reps = 5, .min_ms = 100 };
	const char *device = "/dev/sgdma0", *only_path = "", *only_dir = "";
	struct sgdma_info info;
	struct xferbench x;
	int c, ret;

	bench_parse_sizes(&o, "4k,64k,1m,16m,64m");
	while ((c = getopt(argc, argv, "s:r:t:d:p:o:h")) != -1) {
		if (c == 'd' || c == 'p' || c == 'o') {
			*(c == 'd' ? &device : c == 'p' ? &only_path : &only_dir) =
				optarg;
			continue;
		}
		if (c == 'h' || bench_parse_common(&o, c, optarg)) {
			fprintf(c == 'h' ? stdout : stderr,
				"usage: %s [-s SIZES] [-r REPS] [-t MIN_MS] [-d DEVICE] [-p PATH] [-o DIRECTION]\n",
				argv[0]);
			return c == 'h' ? 0 : 2;
		}
	}
	ret = sgdma_open(device, &x.dev);
	if (!ret)
		ret = sgdma_get_info(x.dev, &info);
	if (ret) {
		fprintf(stderr, "%s: %s: %s\n", argv[0], device,
			sgdma_strerror(ret));
		return 1;
	}
	if (bench_max_size(&o) > info.card_size) {
		fprintf(stderr, "%s: sizes exceed card memory (%llu bytes)\n",
			argv[0], (unsigned long long)info.card_size);
		return 2;
	}
	x.a = alloc_touched(bench_max_size(&o));
	x.b = alloc_touched(bench_max_size(&o));
	if (!x.a || !x.b) {
		perror("mmap");
		return 1;
	}
	for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
		for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
			if ((*only_path && strcmp(only_path, paths[p].name)) ||
			    (*only_dir && strcmp(only_dir, dirs[d].name)))
				continue;
			x.flags = paths[p].flags;
			x.op = dirs[d].op;
			ret = bench_run(&o, paths[p].name, dirs[d].name,
					do_xfer, &x);
			if (ret) {
				fprintf(stderr, "%s: %s %s: %s\n", argv[0],
					paths[p].name, dirs[d].name,
					sgdma_strerror(ret));
				return 1;
			}
		}
	}
	sgdma_close(x.dev);
	return 0;
}
