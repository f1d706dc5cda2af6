// SPDX-License-Identifier: GPL-2.0-or-later
/* sgdma read: card memory into a file (or stdout). */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>

#include "io.h"

static int cmd_read(int argc, char **argv)
{
	struct io_opts o = { .output = "-" };
	struct common com = { 0 };
	struct sgdma_info info;
	struct sgdma_dev *dev = NULL;
	uint32_t total_crc = 0;
	uint64_t done = 0;
	void *buf = NULL;
	int fd = -1, ret;

	ret = io_parse(argc, argv, "+:d:o:l:O:P:c:h", &com, &o);
	if (ret >= 0)
		return ret;
	if (o.crc && !com.node)
		com.flags |= SGDMA_XFER_CRC;
	ret = open_range(argv[0], &com, &o, &dev, &info);
	if (ret)
		return ret;
	ret = open_output(o.output, &fd);
	if (ret)
		goto out;
	ret = EXIT_FAIL;
	buf = buf_alloc(o.chunk);
	if (!buf)
		goto out;
	while (done < o.len) {
		size_t n = o.len - done < o.chunk ? o.len - done : o.chunk;
		int err;

		ret = chunk_io(dev, &com, false, "read", o.off + done, buf, n,
			       o.crc ? &total_crc : NULL);
		if (ret)
			goto out;
		err = write_full(fd, buf, n);
		if (err) {
			ret = fail(o.output, err);
			goto out;
		}
		done += n;
	}
	/* The data may be on stdout: the summary goes to stderr. */
	if (!quiet && o.crc)
		fprintf(stderr, "read %" PRIu64 " bytes at 0x%" PRIx64
			", crc32c %#010x\n", done, o.off, total_crc);
	ret = EXIT_OK;
out:
	buf_free(buf, o.chunk);
	close_file(fd);
	sgdma_close(dev);
	return ret;
}

const struct command read_command = {
	.name = "read",
	.run = cmd_read,
	.summary = "read card memory into a file (or stdout)",
	.help = "usage: sgdma read [-d DEV] [-o OFFSET] [-l LENGTH] [-O FILE] [-P PATH]\n"
		"                  [-c CHUNK] [--crc]\n"
		"\n"
		"Reads LENGTH bytes (default: to the end of card memory) from OFFSET.\n"
		"\n"
		DEV_OPT
		CARD_OFFSET_OPT
		"  -l, --length LENGTH bytes to read\n"
		"  -O, --output FILE   write to FILE, created or truncated\n"
		"                      (default '-', stdout)\n"
		PATH_OPT
		CHUNK_OPT
		POLL_OPT
		"      --crc           check each transfer's device CRC32C against\n"
		"                      software's; prints the CRC on stderr\n"
		SIZE_NOTE,
};
