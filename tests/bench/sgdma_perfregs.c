// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The device's performance counters (spec 4.1, PERF_* at BAR0 0x048-0x058)
 * of the function behind an sgdma node, read through a read-only mapping
 * of its sysfs resource0, as one CSV row:
 *
 *   sgdma_perfregs [NODE]        (default /dev/sgdma0)
 *   descs,wait_us,move_us,bh_runs,irqs
 *   1234,5678,...
 *
 * The counters wrap at 2^32: the caller subtracts two readings modulo 2^32.
 * It never clears them (PERF_CTRL) so that it disturbs nothing. A device
 * without the counters reads zeros there (reserved offsets read as zero):
 * that is for the caller to tell from a run that moved descriptors.
 * The driver holds BAR0, so a kernel with CONFIG_IO_STRICT_DEVMEM refuses
 * the mapping unless booted with iomem=relaxed (make bench's guests are).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PERF_FIRST	0x048
#define PERF_COUNTERS	5
#define PERF_MAP_LEN	4096

int main(int argc, char **argv)
{
	const char *node = argc > 1 ? argv[1] : "/dev/sgdma0";
	char path[256], name[64];
	volatile const uint32_t *regs;
	void *map;
	int fd;

	if (argc > 2) {
		fprintf(stderr, "usage: %s [NODE]\n", argv[0]);
		return 2;
	}
	snprintf(name, sizeof(name), "%s", node);
	snprintf(path, sizeof(path), "/sys/class/sgdma/%s/device/resource0",
		 basename(name));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 1;
	}
	map = mmap(NULL, PERF_MAP_LEN, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		fprintf(stderr, "%s: mmap: %s\n", path, strerror(errno));
		return 1;
	}
	regs = (volatile const uint32_t *)((char *)map + PERF_FIRST);
	printf("descs,wait_us,move_us,bh_runs,irqs\n");
	for (int i = 0; i < PERF_COUNTERS; i++)
		printf("%u%s", regs[i], i + 1 < PERF_COUNTERS ? "," : "\n");
	munmap(map, PERF_MAP_LEN);
	return 0;
}
