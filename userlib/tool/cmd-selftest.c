// SPDX-License-Identifier: GPL-2.0-or-later
/* sgdma selftest: every path and operation checked end to end. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "tool.h"

struct st {
	struct sgdma_dev *dev;
	struct sgdma_info *info;
	uint64_t off;
	unsigned char *a, *b;
	size_t len;
	int n, failed, mismatch;
};

static void st_result(struct st *t, int ret, const char *name)
{
	t->n++;
	if (ret == -EILSEQ)
		t->mismatch++;
	if (ret) {
		t->failed++;
		printf("not ok %d %s # %s\n", t->n, name,
		       ret == -EILSEQ ? "data or CRC mismatch" :
		       sgdma_strerror(ret));
	} else {
		printf("ok %d %s\n", t->n, name);
	}
	fflush(stdout);
}

static int st_roundtrip(struct st *t, uint32_t flags)
{
	uint32_t wcrc, rcrc, sw;
	int ret;

	cli_pattern_fill(&data_pattern, t->a, t->len, flags);
	memset(t->b, 0, t->len);
	ret = sgdma_write_card(t->dev, t->off, t->a, t->len,
			       flags | SGDMA_XFER_CRC, &wcrc);
	if (!ret)
		ret = sgdma_read_card(t->dev, t->off, t->b, t->len,
				      flags | SGDMA_XFER_CRC, &rcrc);
	if (ret)
		return ret;
	sw = sgdma_crc32c(0, t->a, t->len);
	return memcmp(t->a, t->b, t->len) || wcrc != sw || rcrc != sw ?
	       -EILSEQ : 0;
}

static int st_info(struct st *t)
{
	if (t->info->abi_version < 2 || !t->info->card_size ||
	    !t->info->max_xfer_len || t->info->card_size < t->len ||
	    t->off > t->info->card_size - t->len)
		return -EINVAL;
	return 0;
}

static int st_copy_path(struct st *t)
{
	return st_roundtrip(t, SGDMA_XFER_COPY);
}

static int st_pinned_path(struct st *t)
{
	if (!(t->info->caps & SGDMA_CAP_PINNED))
		return -EOPNOTSUPP;
	return st_roundtrip(t, SGDMA_XFER_PINNED);
}

static int st_h2h(struct st *t)
{
	uint32_t crc;
	int ret;

	cli_pattern_fill(&data_pattern, t->a, t->len, 7);
	memset(t->b, 0, t->len);
	ret = sgdma_copy(t->dev, t->b, t->a, t->len, SGDMA_XFER_CRC, &crc);
	if (ret)
		return ret;
	return memcmp(t->a, t->b, t->len) ||
	       crc != sgdma_crc32c(0, t->a, t->len) ? -EILSEQ : 0;
}

static int st_vectored(struct st *t)
{
	/* Odd lengths and an unaligned start, gathered then scattered. */
	struct iovec w[3] = {
		{ t->a + 1, 1000 }, { t->a + 4096, 0 }, { t->a + 8192, 12345 },
	};
	struct iovec r[2] = { { t->b + 3, 7 }, { t->b + 65536, 13338 } };
	int ret;

	cli_pattern_fill(&data_pattern, t->a, t->len, 11);
	memset(t->b, 0, t->len);
	ret = sgdma_writev_card(t->dev, t->off, w, 3, 0, NULL);
	if (!ret)
		ret = sgdma_readv_card(t->dev, t->off, r, 2, 0, NULL);
	if (ret)
		return ret;
	return memcmp(t->b + 3, t->a + 1, 7) ||
	       memcmp(t->b + 65536, t->a + 8, 993) ||
	       memcmp(t->b + 65536 + 993, t->a + 8192, 12345) ? -EILSEQ : 0;
}

static int st_node(struct st *t)
{
	ssize_t n;

	cli_pattern_fill(&data_pattern, t->a, t->len, 13);
	memset(t->b, 0, t->len);
	n = sgdma_pwrite(t->dev, t->a, t->len, t->off);
	if (n >= 0)
		n = sgdma_pread(t->dev, t->b, t->len, t->off);
	if (n < 0)
		return (int)n;
	return (size_t)n != t->len || memcmp(t->a, t->b, t->len) ? -EILSEQ :
									0;
}

static int st_out_of_range(struct st *t)
{
	int ret = sgdma_write_card(t->dev, t->info->card_size - 1, t->a, 2, 0,
				   NULL);

	return ret == -EINVAL ? 0 : ret ? ret : -EILSEQ;
}

static int st_queue(struct st *t)
{
	enum { N = 8, CHUNK = 4096 };
	struct sgdma_iovec v[N];
	struct sgdma_xfer x[N];
	struct sgdma_cqe cqe[N];
	struct sgdma_queue *q;
	unsigned int done = 0, seen = 0;
	struct pollfd pfd;
	int ret;

	cli_pattern_fill(&data_pattern, t->a, N * CHUNK, 17);
	memset(t->b, 0, N * CHUNK);
	ret = sgdma_queue_create(t->dev, 4, 0, &q);
	if (ret)
		return ret;
	for (int i = 0; i < N && !ret; i++) {
		v[i] = (struct sgdma_iovec){ (uintptr_t)(t->a + i * CHUNK),
					     CHUNK };
		x[i] = (struct sgdma_xfer){
			.op = SGDMA_OP_H2C, .flags = SGDMA_XFER_CRC,
			.card_offset = t->off + i * CHUNK,
			.src_iov = (uintptr_t)&v[i], .src_iovcnt = 1,
		};
		while ((ret = sgdma_queue_submit(q, &x[i], i)) == -EBUSY) {
			/* Wait on the fd as an event loop would. */
			pfd = (struct pollfd){ sgdma_queue_fd(q), POLLIN, 0 };
			if (poll(&pfd, 1, 10000) != 1) {
				ret = -ETIMEDOUT;
				break;
			}
			ret = sgdma_queue_reap(q, cqe + done, N - done, 0, 0);
			if (ret < 0)
				break;
			done += ret;
		}
	}
	while (!ret && done < N) {
		ret = sgdma_queue_reap(q, cqe + done, N - done, 1, 10000);
		if (ret > 0) {
			done += ret;
			ret = 0;
		} else if (!ret) {
			ret = -ETIMEDOUT;
		}
	}
	sgdma_queue_destroy(q);
	for (unsigned int i = 0; !ret && i < N; i++) {
		unsigned int k = cqe[i].user_data;

		if (k >= N || seen & 1u << k || cqe[i].res ||
		    cqe[i].crc != sgdma_crc32c(0, t->a + k * CHUNK, CHUNK))
			ret = cqe[i].res ? cqe[i].res : -EILSEQ;
		seen |= 1u << k;
	}
	if (!ret)
		ret = sgdma_read_card(t->dev, t->off, t->b, N * CHUNK, 0,
				      NULL);
	if (!ret && memcmp(t->a, t->b, N * CHUNK))
		ret = -EILSEQ;
	return ret;
}

static int selftest_opt(const char *cmd, int c, const char *arg, void *ctx)
{
	if (c == 'o')
		return parse_size_opt(cmd, "offset", arg, ctx);
	return usage_err(cmd, "unexpected option");
}

static int cmd_selftest(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "offset", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct {
		int (*fn)(struct st *t);
		const char *name;
	} cases[] = {
		{ st_info, "info" },
		{ st_copy_path, "copy_path_h2c_c2h_crc" },
		{ st_pinned_path, "pinned_path_h2c_c2h_crc" },
		{ st_h2h, "h2h_crc" },
		{ st_vectored, "vectored" },
		{ st_node, "node_read_write" },
		{ st_out_of_range, "out_of_range_refused" },
		{ st_queue, "queue" },
	};
	struct common com = { .device = global_device };
	struct sgdma_info info;
	struct st t = { .len = 256 * 1024 };
	int ret;

	ret = parse_opts(argc, argv, "+:d:o:h", longopts, &com, selftest_opt,
			 &t.off);
	if (ret >= 0)
		return ret;
	ret = open_device(com.device, &t.dev, &info);
	if (ret)
		return ret;
	t.info = &info;
	ret = check_range(argv[0], &info, t.off, t.len);
	if (ret)
		goto out;
	t.a = buf_alloc(t.len);
	t.b = buf_alloc(t.len);
	ret = EXIT_FAIL;
	if (!t.a || !t.b)
		goto out;
	printf("TAP version 13\n1..%zu\n", ARRAY_LEN(cases));
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		st_result(&t, cases[i].fn(&t), cases[i].name);
	printf("# %d passed, %d failed\n", t.n - t.failed, t.failed);
	ret = t.mismatch ? EXIT_MISMATCH : t.failed ? EXIT_FAIL : EXIT_OK;
out:
	buf_free(t.a, t.len);
	buf_free(t.b, t.len);
	sgdma_close(t.dev);
	return ret;
}

const struct command selftest_command = {
	.name = "selftest",
	.run = cmd_selftest,
	.summary = "check the device and driver end to end",
	.help = "usage: sgdma selftest [-d DEV] [-o OFFSET]\n"
		"\n"
		"Runs a short functional check of every path and operation: info, H2C\n"
		"and C2H on the copy and pinned paths with CRC32C, H2H, vectored\n"
		"transfers, read/write on the node, a refused out-of-range request,\n"
		"and libsgdma's asynchronous queue. Prints TAP. Overwrites 256 KiB of\n"
		"card memory at OFFSET (default 0).\n"
		"\n"
		DEV_OPT
		"  -o, --offset OFFSET first byte of card memory used (default 0)\n",
};
