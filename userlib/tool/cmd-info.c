// SPDX-License-Identifier: GPL-2.0-or-later
/* sgdma info: the device's identity, capabilities and limits. */
#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "tool.h"

struct info_opts {
	bool json;
};

static int info_opt(const char *cmd, int c, const char *arg, void *ctx)
{
	struct info_opts *o = ctx;

	(void)cmd;
	(void)arg;
	if (c == OPT_JSON)
		o->json = true;
	return 0;
}

static const char *irq_name(uint32_t mode)
{
	switch (mode) {
	case SGDMA_IRQ_INTX:
		return "intx";
	case SGDMA_IRQ_MSI:
		return "msi";
	case SGDMA_IRQ_MSIX:
		return "msi-x";
	default:
		return "unknown";
	}
}

static int cmd_info(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct common com = { .device = global_device };
	struct info_opts o = { false };
	struct sgdma_info i;
	struct sgdma_dev *dev;
	int ret;

	ret = parse_opts(argc, argv, "+:d:h", longopts, &com, info_opt, &o);
	if (ret >= 0)
		return ret;
	ret = open_device(com.device, &dev, &i);
	if (ret)
		return ret;
	sgdma_close(dev);
	if (o.json) {
		printf("{\"device\": \"/dev/sgdma%u\", \"abi_version\": %u, "
		       "\"hw_id\": %u, \"hw_version\": \"%u.%u\", "
		       "\"pci_vendor\": %u, \"pci_device\": %u, "
		       "\"pci_revision\": %u, \"channels\": %u, "
		       "\"dma_bits\": %u, \"card_size\": %" PRIu64 ", "
		       "\"seg_boundary\": %" PRIu64 ", \"max_seg_size\": %u, "
		       "\"max_segments\": %u, \"seg_align\": %u, "
		       "\"max_desc_len\": %u, \"ops\": %u, \"caps\": %u, "
		       "\"max_iovecs\": %u, \"copy_threshold\": %u, "
		       "\"max_xfer_len\": %" PRIu64 ", \"copy_chunk\": %u, "
		       "\"pin_chunk\": %u, \"irq_mode\": \"%s\"}\n",
		       i.minor, i.abi_version, i.hw_id, i.hw_version >> 16,
		       i.hw_version & 0xffff, i.pci_vendor, i.pci_device,
		       i.pci_revision, i.channels, i.dma_bits,
		       (uint64_t)i.card_size, (uint64_t)i.seg_boundary,
		       i.max_seg_size, i.max_segments, i.seg_align,
		       i.max_desc_len, i.ops, i.caps, i.max_iovecs,
		       i.copy_threshold, (uint64_t)i.max_xfer_len,
		       i.copy_chunk, i.pin_chunk, irq_name(i.irq_mode));
		return EXIT_OK;
	}
	printf("device:         /dev/sgdma%u\n", i.minor);
	printf("pci id:         %04x:%04x rev %02x\n", i.pci_vendor,
	       i.pci_device, i.pci_revision);
	printf("hw id:          0x%08x\n", i.hw_id);
	printf("hw version:     %u.%u\n", i.hw_version >> 16,
	       i.hw_version & 0xffff);
	printf("abi version:    %u\n", i.abi_version);
	if (i.abi_version < 2)
		return EXIT_OK;
	printf("card memory:    %" PRIu64 " bytes\n", (uint64_t)i.card_size);
	printf("channels:       %u\n", i.channels);
	printf("irq mode:       %s\n", irq_name(i.irq_mode));
	printf("operations:    %s%s%s\n",
	       i.ops & 1u << SGDMA_OP_H2C ? " h2c" : "",
	       i.ops & 1u << SGDMA_OP_C2H ? " c2h" : "",
	       i.ops & 1u << SGDMA_OP_H2H ? " h2h" : "");
	printf("capabilities:  %s%s%s%s%s\n",
	       i.caps & SGDMA_CAP_CRC32C ? " crc32c" : "",
	       i.caps & SGDMA_CAP_PINNED ? " pinned" : "",
	       i.caps & SGDMA_CAP_FAULT_INJECT ? " fault-inject" : "",
	       i.caps & SGDMA_CAP_BUFS ? " buffers" : "",
	       i.caps & SGDMA_CAP_MMAP_CARD ? " mmap-card" : "");
	printf("dma bits:       %u\n", i.dma_bits);
	printf("segments:       max %u of %u bytes, boundary 0x%" PRIx64
	       ", align %u\n", i.max_segments, i.max_seg_size,
	       (uint64_t)i.seg_boundary, i.seg_align);
	printf("descriptor:     max %u bytes\n", i.max_desc_len);
	printf("transfer:       max %" PRIu64 " bytes, %u iovecs\n",
	       (uint64_t)i.max_xfer_len, i.max_iovecs);
	printf("copy threshold: %u bytes\n", i.copy_threshold);
	printf("chunks:         copy %u, pin %u bytes\n", i.copy_chunk,
	       i.pin_chunk);
	return EXIT_OK;
}

const struct command info_command = {
	.name = "info",
	.run = cmd_info,
	.summary = "show the device's identity, capabilities and limits",
	.help = "usage: sgdma info [-d DEV] [--json]\n"
		"\n"
		"Shows the device's identity, capabilities and limits (SGDMA_IOC_INFO).\n"
		"\n"
		DEV_OPT
		"      --json          one JSON object, for scripts\n",
};
