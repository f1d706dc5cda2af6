// SPDX-License-Identifier: GPL-2.0-or-later
/* sgdma copy: a file to another through the device's host-to-host copy. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "io.h"

static int cmd_copy(int argc, char **argv)
{
	struct io_opts o = { .input = "-", .output = "-" };
	struct common com = { 0 };
	struct sgdma_info info;
	struct sgdma_dev *dev = NULL;
	int in = -1, out = -1, ret;
	uint32_t total_crc = 0;
	void *src = NULL, *dst = NULL;
	uint64_t done = 0;

	ret = io_parse(argc, argv, "+:d:i:O:l:P:c:h", &com, &o);
	if (ret >= 0)
		return ret;
	if (com.node)
		return usage_err(argv[0], "the node path has no host-to-host copy");
	ret = open_device(com.device, &dev, &info);
	if (ret)
		return ret;
	com.seg_align = info.seg_align;
	ret = check_pinned(argv[0], &com, o.chunk);
	if (ret)
		goto out;
	ret = open_input(o.input, &in);
	if (!ret)
		ret = open_output(o.output, &out);
	if (ret)
		goto out;
	ret = EXIT_FAIL;
	src = buf_alloc(o.chunk);
	dst = buf_alloc(o.chunk);
	if (!src || !dst)
		goto out;
	while (!o.have_len || done < o.len) {
		size_t want = o.have_len && o.len - done < o.chunk ?
			      o.len - done : o.chunk;
		ssize_t n = read_full(in, src, want);
		uint32_t crc = 0;
		int err;

		if (n < 0) {
			ret = fail(o.input, (int)n);
			goto out;
		}
		if (!n)
			break;
		ret = check_pinned(argv[0], &com, n);
		if (ret)
			goto out;
		ret = EXIT_FAIL;
		err = sgdma_copy(dev, dst, src, n,
				 com.flags | (o.crc ? SGDMA_XFER_CRC : 0),
				 o.crc ? &crc : NULL);
		if (err) {
			ret = fail("copy", err);
			goto out;
		}
		if (memcmp(src, dst, n)) {
			msg("copy: the device's copy differs from its source near byte %" PRIu64,
			    done);
			ret = EXIT_MISMATCH;
			goto out;
		}
		if (o.crc) {
			ret = check_crc("copy", done, crc,
					sgdma_crc32c(0, src, n));
			if (ret)
				goto out;
			total_crc = sgdma_crc32c(total_crc, src, n);
		}
		err = write_full(out, dst, n);
		if (err) {
			ret = fail(o.output, err);
			goto out;
		}
		done += n;
		if ((size_t)n < want)
			break;
	}
	if (!quiet) {
		fprintf(stderr, "copied %" PRIu64 " bytes", done);
		if (o.crc)
			fprintf(stderr, ", crc32c %#010x", total_crc);
		fprintf(stderr, "\n");
	}
	ret = EXIT_OK;
out:
	buf_free(src, o.chunk);
	buf_free(dst, o.chunk);
	close_file(in);
	close_file(out);
	sgdma_close(dev);
	return ret;
}

const struct command copy_command = {
	.name = "copy",
	.run = cmd_copy,
	.summary = "copy a file to another through the device (H2H)",
	.help = "usage: sgdma copy [-d DEV] [-i FILE] [-O FILE] [-l LENGTH] [-P PATH]\n"
		"                  [-c CHUNK] [--crc]\n"
		"\n"
		"Copies FILE to FILE through the device's host-to-host operation, one\n"
		"chunk at a time: read(2) into a buffer, the device copies it into a\n"
		"second buffer, write(2) from that. Card memory is not touched.\n"
		"\n"
		DEV_OPT
		"  -i, --input FILE    source (default '-', stdin)\n"
		"  -O, --output FILE   destination, created or truncated (default '-')\n"
		"  -l, --length LENGTH copy at most LENGTH bytes (default: all)\n"
		"  -P, --path PATH     auto, copy or pinned\n"
		CHUNK_OPT
		POLL_OPT
		"      --crc           check each device CRC32C against software's\n"
		SIZE_NOTE,
};
