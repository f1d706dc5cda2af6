// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma: command-line access to sgdma devices.
 *
 * Exit codes: 0 success, 1 the device refused or failed the request,
 * 2 usage error.
 */
#define _GNU_SOURCE
#include <getopt.h>
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
		"  info                 show the device's identity\n",
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
	if (optind != argc - 1 || strcmp(argv[optind], "info")) {
		usage(stderr);
		return 2;
	}

	if (open_device(device, &dev))
		return 1;
	ret = cmd_info(dev);
	sgdma_close(dev);
	return ret;
}
