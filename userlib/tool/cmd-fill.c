// SPDX-License-Identifier: GPL-2.0-or-later
/* sgdma fill: card memory filled with a pattern. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>

#include "io.h"

static int cmd_fill(int argc, char **argv)
{
	struct io_opts o = { 0 };
	struct common com = { 0 };
	struct sgdma_info info;
	struct sgdma_dev *dev;
	uint64_t done = 0;
	void *buf;
	int ret;

	ret = pattern_setup(argc, argv, &com, &o, "zero", &dev, &info);
	if (ret >= 0)
		return ret;
	ret = EXIT_FAIL;
	buf = buf_alloc(o.chunk);
	if (!buf)
		goto out;
	while (done < o.len) {
		size_t n = o.len - done < o.chunk ? o.len - done : o.chunk;

		/* A constant pattern is built once. */
		if (!done || o.pat.kind != PAT_BYTE)
			cli_pattern_fill(&o.pat, buf, n, done);
		ret = card_io_at(dev, &com, true, "fill", o.off + done, buf, n,
				 NULL);
		if (ret)
			goto out;
		done += n;
	}
	printf("filled %" PRIu64 " bytes at 0x%" PRIx64 "\n", done, o.off);
	ret = EXIT_OK;
out:
	buf_free(buf, o.chunk);
	sgdma_close(dev);
	return ret;
}

const struct command fill_command = {
	.name = "fill",
	.run = cmd_fill,
	.summary = "fill card memory with a pattern",
	.help = "usage: sgdma fill [-d DEV] [-o OFFSET] [-l LENGTH] [-p PATTERN] [-P PATH]\n"
		"                  [-c CHUNK]\n"
		"\n"
		"Fills card memory with a pattern. The device has no fill operation:\n"
		"the pattern is built in host memory and written with host-to-card\n"
		"transfers (by PATH, default copy), one chunk at a time.\n"
		"\n"
		DEV_OPT
		RANGE_OPTS
		"  -p, --pattern PAT   zero (default), ones, 0xNN (a byte), incr\n"
		"                      (32-bit little-endian word n at byte 4n of the\n"
		"                      range) or random[:SEED] (reproducible)\n"
		PATH_OPT
		CHUNK_OPT
		POLL_OPT
		SIZE_NOTE,
};
