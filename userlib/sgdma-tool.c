// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma: command-line access to sgdma devices.
 *
 * Exit codes: 0 success, 1 the device refused or failed the request,
 * 2 usage error.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libsgdma.h"

static const char *progname = "sgdma";

static void usage(FILE *out)
{
	fprintf(out,
		"usage: %s [-d DEVICE] COMMAND\n"
		"\n"
		"  -d, --device DEVICE  device node path or index (default 0)\n"
		"  -h, --help           show this help\n"
		"\n"
		"commands:\n"
		"  info                 show the device's identity\n"
		"  bench                time the copy and pinned paths by size\n",
		progname);
}

static int open_device(const char *name, struct sgdma_dev **dev)
{
	char *end;
	unsigned long index = strtoul(name, &end, 10);
	int ret;

	if (*name && !*end)
		ret = sgdma_open_index(index, dev);
	else
		ret = sgdma_open(name, dev);
	if (ret)
		fprintf(stderr, "%s: %s: %s\n", progname, name,
			sgdma_strerror(ret));
	return ret;
}

static int cmd_info(struct sgdma_dev *dev)
{
	struct sgdma_info info;
	int ret = sgdma_get_info(dev, &info);

	if (ret) {
		fprintf(stderr, "%s: info: %s\n", progname, sgdma_strerror(ret));
		return 1;
	}
	printf("device:      /dev/sgdma%u\n", info.minor);
	printf("pci id:      %04x:%04x rev %02x\n", info.pci_vendor,
	       info.pci_device, info.pci_revision);
	printf("hw id:       0x%08x\n", info.hw_id);
	printf("hw version:  %u.%u\n", info.hw_version >> 16,
	       info.hw_version & 0xffff);
	printf("abi version: %u\n", info.abi_version);
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* MB/s of one path and direction at one size, over about 0.2 s. */
static double bench_one(struct sgdma_dev *dev, void *buf, size_t len,
			uint32_t flags, int to_card)
{
	double start = now(), t;
	unsigned long n = 0;

	do {
		int ret = to_card ?
			  sgdma_write_card(dev, 0, buf, len, flags, NULL) :
			  sgdma_read_card(dev, 0, buf, len, flags, NULL);

		if (ret)
			return -1;
		n++;
		t = now() - start;
	} while (t < 0.2 || n < 4);
	return n * (double)len / t / 1e6;
}

/*
 * The automatic threshold of the driver (its copy_threshold parameter)
 * comes from this table, measured in the test guest (TCG, 2 vCPUs, Debian
 * 6.1), MB/s:
 *
 *            no IOMMU: copy, pinned      intel-iommu strict: copy, pinned
 *   bytes       H2C     H2C   C2H   C2H       H2C    H2C    C2H    C2H
 *   65536        35     116   141    50       164    179    105     82
 *   131072      164     507   340   229       116     77    213     92
 *   262144      204     442   330   339       325    244    296    355
 *   1048576     874    1966   609  1431        55   1698    256   1933
 *   4194304     242    2636   149  2355       192   1313    286   1074
 *
 * Below 64 KiB both paths cost the same per call (the device's latency).
 */
static int cmd_bench(struct sgdma_dev *dev)
{
	static const size_t sizes[] = {
		512, 4096, 16384, 32768, 65536, 131072, 262144, 1048576,
		4194304,
	};
	size_t max = sizes[sizeof(sizes) / sizeof(sizes[0]) - 1];
	void *buf = mmap(NULL, max, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (buf == MAP_FAILED)
		return 1;
	memset(buf, 0x5a, max);
	printf("%10s %12s %12s %12s %12s   (MB/s)\n", "bytes", "copy H2C",
	       "pinned H2C", "copy C2H", "pinned C2H");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t len = sizes[i];

		printf("%10zu %12.1f %12.1f %12.1f %12.1f\n", len,
		       bench_one(dev, buf, len, SGDMA_XFER_COPY, 1),
		       bench_one(dev, buf, len, SGDMA_XFER_PINNED, 1),
		       bench_one(dev, buf, len, SGDMA_XFER_COPY, 0),
		       bench_one(dev, buf, len, SGDMA_XFER_PINNED, 0));
		fflush(stdout);
	}
	munmap(buf, max);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *device = "0";
	struct sgdma_dev *dev;
	int c, ret;

	while ((c = getopt_long(argc, argv, "+d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			device = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || (strcmp(argv[optind], "info") &&
				   strcmp(argv[optind], "bench"))) {
		usage(stderr);
		return 2;
	}

	if (open_device(device, &dev))
		return 1;
	if (!strcmp(argv[optind], "bench"))
		ret = cmd_bench(dev);
	else
		ret = cmd_info(dev);
	sgdma_close(dev);
	return ret;
}
