// SPDX-License-Identifier: GPL-2.0-or-later
/* sgdma verify: a pattern written, read back and compared, with CRCs. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "io.h"

static int first_difference(const unsigned char *a, const unsigned char *b,
			    size_t len, size_t *at)
{
	if (!memcmp(a, b, len))
		return 0;
	for (*at = 0; *at < len && a[*at] == b[*at]; (*at)++)
		;
	return 1;
}

static int cmd_verify(int argc, char **argv)
{
	struct io_opts o = { 0 };
	struct common com = { 0 };
	struct sgdma_info info;
	struct sgdma_dev *dev;
	unsigned char *wbuf = NULL, *rbuf = NULL;
	uint64_t done = 0;
	int ret;

	ret = pattern_setup(argc, argv, &com, &o, "random", &dev, &info);
	if (ret >= 0)
		return ret;
	if (!com.node)
		com.flags |= SGDMA_XFER_CRC;
	ret = EXIT_FAIL;
	wbuf = buf_alloc(o.chunk);
	rbuf = buf_alloc(o.chunk);
	if (!wbuf || !rbuf)
		goto out;
	while (done < o.len) {
		size_t n = o.len - done < o.chunk ? o.len - done : o.chunk;
		uint32_t wcrc = 0, rcrc = 0, sw;
		uint64_t off = o.off + done;
		size_t at;

		cli_pattern_fill(&o.pat, wbuf, n, done);
		for (size_t i = 0; i < n; i++)
			rbuf[i] = ~wbuf[i];
		ret = card_io_at(dev, &com, true, "verify", off, wbuf, n,
				 &wcrc);
		if (!ret)
			ret = card_io_at(dev, &com, false, "verify", off, rbuf,
					 n, &rcrc);
		if (ret)
			goto out;
		if (first_difference(wbuf, rbuf, n, &at)) {
			msg("verify: data differs at card offset 0x%" PRIx64
			    ": wrote %#04x, read %#04x", off + at, wbuf[at],
			    rbuf[at]);
			ret = EXIT_MISMATCH;
			goto out;
		}
		if (!com.node) {
			sw = sgdma_crc32c(0, wbuf, n);
			ret = check_crc("verify write", off, wcrc, sw);
			if (!ret)
				ret = check_crc("verify read", off, rcrc, sw);
			if (ret)
				goto out;
		}
		done += n;
	}
	printf("verified %" PRIu64 " bytes at 0x%" PRIx64 " (%s path%s)\n",
	       done, o.off, com.path_name, com.node ? "" : ", crc32c");
	ret = EXIT_OK;
out:
	buf_free(wbuf, o.chunk);
	buf_free(rbuf, o.chunk);
	sgdma_close(dev);
	return ret;
}

const struct command verify_command = {
	.name = "verify",
	.run = cmd_verify,
	.summary = "write a pattern, read it back, compare data and CRCs",
	.help = "usage: sgdma verify [-d DEV] [-o OFFSET] [-l LENGTH] [-p PATTERN]\n"
		"                    [-P PATH] [-c CHUNK]\n"
		"\n"
		"Writes a pattern to card memory, reads it back into a poisoned buffer\n"
		"and compares, chunk by chunk; on the DMA paths also checks both\n"
		"transfers' device CRC32C against software's. Overwrites the range.\n"
		"Exits 5 at the first mismatch, with its card offset.\n"
		"\n"
		DEV_OPT
		RANGE_OPTS
		"  -p, --pattern PAT   as for fill; default random\n"
		PATH_OPT
		CHUNK_OPT
		POLL_OPT
		SIZE_NOTE,
};
