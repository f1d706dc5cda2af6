/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the queue programs share (sgdma_async: the queue ABI; sgdma_ring:
 * full rings): a transfer slot, the device's LATE fault that holds a
 * descriptor, how many descriptors a full ring keeps in flight, one
 * queued submission.
 */
#ifndef SGDMA_QUEUE_H
#define SGDMA_QUEUE_H

#include "sgdma_zc.h"

#define SLOT	(64 * KiB)

#define FAULT_LATE	6
#define HOLD_MS		300	/* LATE: the device holds a descriptor */
#define LIST_SETS	8	/* pieces the driver keeps in flight per channel */

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

#endif /* SGDMA_QUEUE_H */
