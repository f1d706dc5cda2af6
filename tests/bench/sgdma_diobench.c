// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * O_DIRECT read and write bandwidth of a block device by size, from one
 * user buffer: the kernel's most mature pinned scatter-gather path (with
 * an NVMe namespace), the peer the sgdma pinned path is compared with.
 *
 *   sgdma_diobench [-s SIZES] [-r REPS] [-t MIN_MS] [-l LABEL] DEVICE
 *
 * Prints bench.h's CSV rows with path LABEL (default "odirect"), direction
 * h2c for writes (host memory to the device) and c2h for reads. Every I/O
 * starts at offset 0 of the device, which must hold the largest size.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>

#include "bench.h"

struct dio {
	int fd;
	char *buf;
	int write;
};

static int do_io(void *ctx, size_t len)
{
	struct dio *d = ctx;
	ssize_t n = d->write ? pwrite(d->fd, d->buf, len, 0) :
			       pread(d->fd, d->buf, len, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int main(int argc, char **argv)
{
	struct bench_opts o = { .reps = 5, .min_ms = 100, .label = "odirect" };
	int ret, status, arg;
	struct dio d;

	bench_parse_sizes(&o, "4k,64k,1m,16m,64m");
	arg = bench_parse_args(argc, argv, &o, "DEVICE", &status);
	if (arg < 0)
		return status;
	if (arg != argc - 1) {
		fprintf(stderr, "%s: one block device expected\n", argv[0]);
		return 2;
	}
	d.fd = open(argv[arg], O_RDWR | O_DIRECT);
	if (d.fd < 0) {
		perror(argv[arg]);
		return 1;
	}
	d.buf = bench_alloc(bench_max_size(&o), 0x3c);
	if (!d.buf) {
		perror("sgdma_diobench: buffer");
		return 1;
	}
	for (d.write = 1; d.write >= 0; d.write--) {
		ret = bench_run(&o, d.write ? "h2c" : "c2h", do_io, &d);
		if (ret) {
			fprintf(stderr, "%s: %s: %s\n", argv[0], argv[arg],
				strerror(-ret));
			return 1;
		}
	}
	return 0;
}
