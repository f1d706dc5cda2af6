/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the queue programs share (sgdma_async: the queue ABI; sgdma_ring:
 * full rings; sgdma_coalesce: their interrupts): a transfer slot, the
 * device's LATE fault that holds a descriptor, how many descriptors a
 * full ring keeps in flight, one queued submission, collecting
 * completions.
 */
#ifndef SGDMA_QUEUE_H
#define SGDMA_QUEUE_H

#include <poll.h>

#include "sgdma_zc.h"

#define SLOT	(64 * KiB)

#define FAULT_LATE	6
#define HOLD_MS		300	/* LATE: the device holds a descriptor */
#define LIST_SETS	32	/* pieces the driver keeps in flight per channel */

/* Descriptors a queue should keep in flight on one channel of sgdma0. */
static inline long full_ring(void)
{
	long ring = dev_stat(0, "ring_entries");

	return ring < LIST_SETS ? ring : LIST_SETS;
}

static inline int sub(int q, uint16_t op, uint32_t flags, uint32_t chan,
		      uint64_t card, uint32_t sh, uint64_t soff, uint32_t dh,
		      uint64_t doff, uint64_t len, uint64_t ud)
{
	struct sgdma_buf_xfer x = {
		.flags = flags, .op = op, .channel = chan,
		.card_offset = card, .src_handle = sh, .src_offset = soff,
		.dst_handle = dh, .dst_offset = doff, .len = len,
		.user_data = ud,
	};

	return -sgdma_bufq_submit(q, &x);
}

/* What came back for one submission, indexed by its user_data. */
struct got {
	bool seen;
	int status;
	uint64_t bytes;
	uint32_t crc;
};

/*
 * Collects @want completions of @q into @g (@n entries, by user_data)
 * within @secs: each user_data one of ours and delivered once.
 */
static inline bool reap_n(int q, struct got *g, unsigned int n,
			  unsigned int want, double secs)
{
	double end = now() + secs;
	unsigned int got = 0;

	while (got < want) {
		struct sgdma_completion c[32];
		struct pollfd p = { .fd = q, .events = POLLIN };
		int ms = (int)((end - now()) * 1000), k;

		if (ms <= 0 || poll(&p, 1, ms) != 1) {
			ktap_diag("%u of %u completions within %.0f s", got,
				  want, secs);
			return false;
		}
		k = sgdma_bufq_reap(q, c, ARRAY_LEN(c), 0);
		if (!EXPECT(k > 0))
			return false;
		for (int i = 0; i < k; i++) {
			uint64_t ud = c[i].user_data;

			if (!EXPECT(ud < n && !g[ud].seen)) {
				ktap_diag("unexpected completion %llu",
					  (unsigned long long)ud);
				return false;
			}
			g[ud] = (struct got){ true, c[i].status, c[i].bytes,
					      c[i].crc };
		}
		got += k;
	}
	return true;
}

/* Collects every completion of @n submissions: all came, none more. */
static inline bool reap_all(int q, struct got *g, unsigned int n,
			    double secs)
{
	struct sgdma_completion c;

	return reap_n(q, g, n, n, secs) &&
	       EXPECT(sgdma_bufq_reap(q, &c, 1, 0) == 0);
}

#endif /* SGDMA_QUEUE_H */
