// SPDX-License-Identifier: GPL-2.0
/*
 * sgdma transfers on buffers: a request split into descriptors the device
 * accepts, kept in flight on one channel, a list set per descriptor.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>

#include "sgdma.h"

/**
 * struct sgdma_bufpiece - one descriptor of a buffer transfer in flight
 * @d: the descriptor
 * @sside: its source side
 * @dside: its destination side
 * @done: bytes of the transfer before it
 */
struct sgdma_bufpiece {
	struct sgdma_desc d;
	struct sgdma_side sside;
	struct sgdma_side dside;
	u64 done;
};

/*
 * Build the descriptor for up to @max bytes of @r from byte @done on, in
 * list set @set of the channel, and give its bytes to the device.
 */
static int sgdma_bufreq_prep(struct sgdma_chan *chan, struct sgdma_bufreq *r,
			     u64 done, u64 max, unsigned int set,
			     struct sgdma_bufpiece *p)
{
	struct sgdma_dev *sdev = chan->sdev;
	u64 n = max, m;
	int ret;

	ret = sgdma_chan_lists(chan, set);
	if (ret)
		return ret;
	if (r->src) {
		ret = sgdma_buf_side(sdev, r->src, r->src_off + done, n,
				     &p->sside, &chan->src[set], &n);
		if (ret)
			return ret;
	}
	if (r->dst) {
		ret = sgdma_buf_side(sdev, r->dst, r->dst_off + done, n,
				     &p->dside, &chan->dst[set], &m);
		if (ret)
			return ret;
		/* The destination's list filled first: shorten the source. */
		if (r->src && m < n) {
			ret = sgdma_buf_side(sdev, r->src, r->src_off + done, m,
					     &p->sside, &chan->src[set], &n);
			if (ret)
				return ret;
		}
		n = m;
	}
	if (WARN_ON_ONCE(!n || n > U32_MAX))
		return -EIO;

	p->done = done;
	p->d = (struct sgdma_desc){
		.opcode = r->op,
		.want_crc = r->flags & SGDMA_XFER_CRC,
		.poll = sgdma_want_poll(r->flags, n),
		.src = r->src ? &p->sside : NULL,
		.card_src = r->card_offset + done,
		.dst = r->dst ? &p->dside : NULL,
		.card_dst = r->card_offset + done,
		.len = n,
	};
	if (r->src)
		sgdma_buf_sync(r->src, r->src_off + done, n, DMA_TO_DEVICE,
			       false);
	/*
	 * The destination is synced both ways: a transfer that fails or is
	 * interrupted part way leaves bytes the device never wrote, and the
	 * sync for the CPU must copy back the CPU's own bytes there, not
	 * whatever a bounce buffer held before.
	 */
	if (r->dst)
		sgdma_buf_sync(r->dst, r->dst_off + done, n, DMA_BIDIRECTIONAL,
			       false);
	return 0;
}

/* The device is done with a piece (completed or stopped): the CPU's turn. */
static void sgdma_bufpiece_for_cpu(struct sgdma_bufreq *r,
				   struct sgdma_bufpiece *p)
{
	if (r->dst)
		sgdma_buf_sync(r->dst, r->dst_off + p->done, p->d.len,
			       DMA_BIDIRECTIONAL, true);
}

/*
 * The pieces from @first to @last (exclusive) ended without completing:
 * give their bytes back to the CPU, or, if the channel would not stop,
 * never release the buffers.
 */
static void sgdma_bufreq_unwind(struct sgdma_chan *chan,
				struct sgdma_bufreq *r,
				struct sgdma_bufpiece *pieces,
				unsigned int first, unsigned int last)
{
	if (chan->abandoned) {
		/* The device may still access them: never release them. */
		if (r->src)
			sgdma_buf_set_leaked(r->src);
		if (r->dst)
			sgdma_buf_set_leaked(r->dst);
		return;
	}
	for (; first != last; first++)
		sgdma_bufpiece_for_cpu(r, &pieces[first % SGDMA_LIST_SETS]);
}

/**
 * sgdma_bufreq_run() - run a transfer on buffers and wait for it
 * @sdev: the device, live
 * @r: the request with its buffers taken; @r->crc is set on success
 * @cancel: if not NULL (a queued transfer), checked before each
 *          descriptor is posted: true ends the transfer with -ECANCELED
 *          once what was posted has ended
 *
 * Splits the transfer into descriptors the device accepts (its length
 * limit and one pair of segment lists) and keeps up to a list set per
 * descriptor, as far as the ring has room, in flight on one channel.
 * They complete in order. On failure the channel has been stopped: the
 * device no longer touches the buffers.
 *
 * Return: 0 or a negative errno (see struct sgdma_buf_xfer in the uapi).
 */
int sgdma_bufreq_run(struct sgdma_dev *sdev, struct sgdma_bufreq *r,
		     const bool *cancel)
{
	const struct sgdma_limits *lim = &sdev->lim;
	u64 cap = ALIGN_DOWN(lim->max_desc_len, lim->seg_align), posted = 0;
	unsigned int first = 0, next = 0;
	struct sgdma_bufpiece *pieces;
	struct sgdma_chan *chan;
	int ret = 0;

	r->crc = 0;
	if (!r->len)
		return 0;
	pieces = kmalloc_array(SGDMA_LIST_SETS, sizeof(*pieces), GFP_KERNEL);
	if (!pieces)
		return -ENOMEM;
	chan = sgdma_chan_get(sdev, r->channel);
	if (IS_ERR(chan)) {
		kfree(pieces);
		return PTR_ERR(chan);
	}
	while (!ret && (posted < r->len || first != next)) {
		struct sgdma_bufpiece *p;

		/* Fill the ring, up to a list set per piece. */
		while (posted < r->len && next - first < SGDMA_LIST_SETS &&
		       sgdma_chan_depth(chan)) {
			if (cancel && READ_ONCE(*cancel)) {
				ret = -ECANCELED;
				break;
			}
			p = &pieces[next % SGDMA_LIST_SETS];
			ret = sgdma_bufreq_prep(chan, r, posted,
						min(r->len - posted, cap),
						next % SGDMA_LIST_SETS, p);
			if (ret)
				break;
			/* Queued transfers never poll: no one waits. */
			if (cancel)
				p->d.poll = false;
			ret = sgdma_chan_post(chan, &p->d);
			if (ret) {
				sgdma_bufpiece_for_cpu(r, p);
				break;
			}
			posted += p->d.len;
			next++;
		}
		if (first == next)
			break;
		if (ret) {
			/* What was posted ends before the error is returned. */
			sgdma_chan_cancel(chan, ret);
			break;
		}
		p = &pieces[first % SGDMA_LIST_SETS];
		ret = sgdma_chan_wait(chan, &p->d);
		if (ret)
			break;
		sgdma_bufpiece_for_cpu(r, p);
		if (r->flags & SGDMA_XFER_CRC)
			r->crc = sgdma_crc32c_combine(r->crc, p->d.crc,
						      p->d.len);
		first++;
	}
	if (ret)
		sgdma_bufreq_unwind(chan, r, pieces, first, next);
	sgdma_chan_put(chan);
	kfree(pieces);
	return ret;
}
