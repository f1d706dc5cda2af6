// SPDX-License-Identifier: GPL-2.0-or-later
/* sgdma write: a file (or stdin) into card memory. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "io.h"

static int cmd_write(int argc, char **argv)
{
	struct io_opts o = { .input = "-" };
	struct common com = { 0 };
	struct sgdma_info info;
	struct sgdma_dev *dev = NULL;
	uint64_t done = 0, limit;
	uint32_t total_crc = 0;
	void *buf = NULL;
	struct stat st;
	int fd = -1, ret;

	ret = io_parse(argc, argv, "+:d:o:l:i:P:c:h", &com, &o);
	if (ret >= 0)
		return ret;
	if (o.crc && !com.node)
		com.flags |= SGDMA_XFER_CRC;
	ret = open_device(com.device, &dev, &info);
	if (ret)
		return ret;
	com.seg_align = info.seg_align;
	ret = check_pinned(argv[0], &com, o.chunk);
	if (ret)
		goto out;
	ret = open_input(o.input, &fd);
	if (ret)
		goto out;
	if (!o.have_len && !fstat(fd, &st) && S_ISREG(st.st_mode)) {
		o.len = st.st_size;
		o.have_len = true;
	}
	limit = o.have_len ? o.len : info.card_size - (o.off < info.card_size ?
						       o.off : info.card_size);
	ret = check_range(argv[0], &info, o.off, limit);
	if (!ret && o.have_len)
		ret = check_pinned(argv[0], &com, limit % o.chunk);
	if (ret)
		goto out;
	ret = EXIT_FAIL;
	buf = buf_alloc(o.chunk);
	if (!buf)
		goto out;
	for (;;) {
		size_t want = limit - done < o.chunk ? limit - done : o.chunk;
		ssize_t n;

		/* From stdin without -l: one byte past the card is an error. */
		if (!want && !o.have_len && read_full(fd, buf, 1) > 0) {
			ret = usage_err(argv[0], "the input is longer than card memory from offset 0x%" PRIx64,
					o.off);
			goto out;
		}
		if (!want)
			break;
		n = read_full(fd, buf, want);
		if (n < 0) {
			ret = fail(o.input, (int)n);
			goto out;
		}
		if (!n && !o.have_len)
			break;
		if ((size_t)n < want && o.have_len) {
			msg("%s: ended after %" PRIu64 " of %" PRIu64 " bytes",
			    o.input, done + n, limit);
			ret = EXIT_FAIL;
			goto out;
		}
		ret = check_pinned(argv[0], &com, n);
		if (ret)
			goto out;
		ret = chunk_io(dev, &com, true, "write", o.off + done, buf, n,
			       o.crc ? &total_crc : NULL);
		if (ret)
			goto out;
		done += n;
		if ((size_t)n < want)
			break;
	}
	printf("wrote %" PRIu64 " bytes at 0x%" PRIx64, done, o.off);
	if (o.crc)
		printf(", crc32c %#010x", total_crc);
	printf("\n");
	ret = EXIT_OK;
out:
	buf_free(buf, o.chunk);
	close_file(fd);
	sgdma_close(dev);
	return ret;
}

const struct command write_command = {
	.name = "write",
	.run = cmd_write,
	.summary = "write a file (or stdin) into card memory",
	.help = "usage: sgdma write [-d DEV] [-o OFFSET] [-l LENGTH] [-i FILE] [-P PATH]\n"
		"                   [-c CHUNK] [--crc]\n"
		"\n"
		"Writes LENGTH bytes (default: all of FILE) into card memory at OFFSET.\n"
		"\n"
		DEV_OPT
		CARD_OFFSET_OPT
		"  -l, --length LENGTH bytes to write; the input must have them\n"
		"  -i, --input FILE    read from FILE (default '-', stdin)\n"
		PATH_OPT
		CHUNK_OPT
		POLL_OPT
		"      --crc           check each transfer's device CRC32C against\n"
		"                      software's; prints the CRC of all the data\n"
		SIZE_NOTE,
};
