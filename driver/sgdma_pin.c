// SPDX-License-Identifier: GPL-2.0
/*
 * sgdma pinned path: walking the caller's iovecs, pinning their pages and
 * unpinning them, mapping them for the device, and the pipeline of pieces
 * in flight on a channel (sgdma_xfer_pinned()).
 *
 * Pinned path: the user pages themselves are pinned, described by a
 * scatter-gather table, mapped, and handed to the device as segment
 * lists, at most SGDMA_PIN_CHUNK (and what one list describes) per side and
 * descriptor. The pieces are pipelined: up to SGDMA_PIN_DEPTH (4) of them
 * are pinned, mapped and in flight on one channel at once, the next piece
 * pinned and mapped while the device moves the earlier ones, and each is
 * synced, unmapped and unpinned as it completes (in order). So one call
 * never pins more than 4 * SGDMA_PIN_CHUNK (8 MiB) per side at a time.
 *
 * Locking (see sgdma_xfer.c). The pinned path holds the device and a
 * channel while pieces are in flight and pins the next piece with
 * FOLL_NOFAULT meanwhile; a pin that would need a fault drains the
 * pipeline, lets go of the device and pins that piece with faults allowed,
 * nothing held. A device removed meanwhile fails the next piece with
 * -ENODEV.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "sgdma.h"
#include "sgdma_trace.h"
#include "sgdma_xfer.h"

/* Where a walk over an iovec array stands. */
struct sgdma_iov_pos {
	const struct iovec *iov;
	unsigned int nr;
	unsigned int idx;
	size_t off;
};

/*
 * One host side of a pinned chunk: its pages and their mapped tables.
 * Pinned and described without locks; mapped, run and unmapped with the
 * device and a channel held.
 */
struct sgdma_pinned {
	struct sgdma_dev *sdev;
	enum dma_data_direction dir;
	u64 max_segment;
	struct page **pages;
	unsigned int npages;
	struct sg_table *sgts;
	unsigned int nsgts;
	unsigned int nmapped;
};

/* Bytes from @pos, up to @max, whose pages number at most @max_pages. */
static u64 sgdma_iov_span(const struct sgdma_iov_pos *pos, u64 max,
			  unsigned int max_pages)
{
	unsigned int idx = pos->idx, pages = 0;
	size_t off = pos->off;
	u64 len = 0;

	while (idx < pos->nr && len < max) {
		unsigned long uaddr = (unsigned long)pos->iov[idx].iov_base + off;
		u64 rem = min_t(u64, pos->iov[idx].iov_len - off, max - len);
		unsigned int np;

		np = DIV_ROUND_UP(offset_in_page(uaddr) + rem, PAGE_SIZE);
		if (pages + np > max_pages) {
			/* Take the part that fits: it ends on a page. */
			if (pages < max_pages)
				len += (u64)(max_pages - pages) * PAGE_SIZE -
				       offset_in_page(uaddr);
			break;
		}
		pages += np;
		len += rem;
		idx++;
		off = 0;
	}
	return len;
}

/*
 * Unmap the pages, with the device held; @leak: the channel would not stop
 * and may still write them, so they stay pinned and mapped for good.
 */
static void sgdma_pinned_unmap(struct sgdma_pinned *p, bool leak)
{
	struct device *dev = sgdma_dma_dev(p->sdev);
	unsigned int i;

	if (leak) {
		sgdma_leak(p->sdev, p->npages);
		atomic_long_sub(p->npages, &p->sdev->stats.pages_pinned);
		p->nmapped = 0;
		p->npages = 0;
	}
	/* The device is done with the pages: completed or stopped. */
	for (i = 0; i < p->nmapped; i++)
		dma_unmap_sgtable(dev, &p->sgts[i], p->dir,
				  DMA_ATTR_SKIP_CPU_SYNC);
	p->nmapped = 0;
}

/* Free the tables and unpin the pages, unmapped (or leaked), unlocked. */
static void sgdma_pinned_unpin(struct sgdma_pinned *p)
{
	unsigned int i;

	for (i = 0; i < p->nsgts; i++)
		sg_free_table(&p->sgts[i]);
	if (p->npages) {
		unpin_user_pages_dirty_lock(p->pages, p->npages,
					    p->dir == DMA_FROM_DEVICE);
		atomic_long_sub(p->npages, &p->sdev->stats.pages_pinned);
	}
	p->nsgts = 0;
	p->npages = 0;
}

/*
 * Pin @len bytes from @pos on, one table per iovec piece. @gup: 0 with no
 * lock held, or FOLL_NOFAULT with the device held: a page that would need
 * a fault then makes the pin short, -EAGAIN.
 */
static int sgdma_pin_chunk(struct sgdma_pinned *p, struct sgdma_iov_pos *pos,
			   u64 len, unsigned int gup)
{
	const struct sgdma_limits *lim = &p->sdev->lim;
	bool write = p->dir == DMA_FROM_DEVICE;
	int ret;

	while (len) {
		const struct iovec *v;
		unsigned long uaddr;
		unsigned int offset, np;
		size_t rem;
		int got;

		if (WARN_ON_ONCE(pos->idx >= pos->nr))
			return -EIO;
		v = &pos->iov[pos->idx];
		rem = min_t(u64, v->iov_len - pos->off, len);
		if (!rem) {
			pos->idx++;
			pos->off = 0;
			continue;
		}
		uaddr = (unsigned long)v->iov_base + pos->off;
		offset = offset_in_page(uaddr);
		np = DIV_ROUND_UP(offset + rem, PAGE_SIZE);
		if (WARN_ON_ONCE(p->npages + np > lim->pin_pages))
			return -EIO;

		got = pin_user_pages_fast(uaddr & PAGE_MASK, np,
					  gup | (write ? FOLL_WRITE : 0),
					  p->pages + p->npages);
		if (got > 0) {
			p->npages += got;
			atomic_long_add(got, &p->sdev->stats.pages_pinned);
		}
		trace_sgdma_pin(p->sdev->minor, uaddr, max(got, 0), write);
		/* A short pin: the caller releases what was pinned. */
		if (got != np && (gup & FOLL_NOFAULT))
			return -EAGAIN;
		if (got != np)
			return got < 0 ? got : -EFAULT;

		/* Entries within the device's segment limits. */
		ret = sgdma_sg_from_pages(p->sdev, p->max_segment,
					  &p->sgts[p->nsgts],
					  p->pages + p->npages - np, np,
					  offset, rem);
		if (ret)
			return ret;
		p->nsgts++;

		len -= rem;
		pos->off += rem;
		if (pos->off == v->iov_len) {
			pos->idx++;
			pos->off = 0;
		}
	}
	return 0;
}

/* Map the pinned tables and describe them to the device as @side. */
static int sgdma_pin_map(struct sgdma_pinned *p, struct sgdma_side *side,
			 struct sgdma_seglist *list)
{
	struct device *dev = sgdma_dma_dev(p->sdev);
	struct scatterlist *sg;
	unsigned int i, j;
	int ret;

	sgdma_seglist_reset(side, list);
	for (i = 0; i < p->nsgts; i++) {
		struct sg_table *sgt = &p->sgts[i];

		ret = sgdma_map_sgtable(p->sdev, sgt, p->dir, 0);
		if (ret)
			return ret;
		p->nmapped++;
		trace_sgdma_map(p->sdev->minor, sgt->orig_nents, sgt->nents,
				p->dir);
		/* The device owns the pages from here on. */
		dma_sync_sgtable_for_device(dev, sgt, p->dir);

		for_each_sgtable_dma_sg(sgt, sg, j) {
			ret = sgdma_side_add(p->sdev, side, sg_dma_address(sg),
					     sg_dma_len(sg));
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* Give the pages back to the CPU after the device wrote them. */
static void sgdma_pin_for_cpu(struct sgdma_pinned *p)
{
	unsigned int i;

	if (p->dir != DMA_FROM_DEVICE)
		return;
	for (i = 0; i < p->nmapped; i++)
		dma_sync_sgtable_for_cpu(sgdma_dma_dev(p->sdev), &p->sgts[i],
					 DMA_FROM_DEVICE);
}

static int sgdma_pinned_alloc(struct sgdma_dev *sdev, struct sgdma_pinned *p,
			      enum dma_data_direction dir, u64 max_segment)
{
	p->sdev = sdev;
	p->dir = dir;
	p->max_segment = max_segment;
	p->pages = kvmalloc_array(sdev->lim.pin_pages, sizeof(*p->pages),
				  GFP_KERNEL);
	p->sgts = kvcalloc(sdev->lim.pin_pages, sizeof(*p->sgts), GFP_KERNEL);
	if (!p->pages || !p->sgts)
		return -ENOMEM;
	return 0;
}

static void sgdma_pinned_free(struct sgdma_pinned *p)
{
	kvfree(p->pages);
	kvfree(p->sgts);
}

/* Longest table entry the device and the DMA layer take (sgdma_sg_max()). */
static int sgdma_pin_max_segment(struct sgdma_dev *sdev, u64 *max)
{
	int ret = sgdma_get_live(sdev);

	if (ret)
		return ret;
	*max = sgdma_sg_max(sdev);
	sgdma_put_live(sdev);
	return 0;
}

/*
 * The pinned path's pipeline: up to SGDMA_PIN_DEPTH pieces of
 * SGDMA_PIN_CHUNK per side pinned, mapped and in flight at once on one
 * channel, so that pinning and mapping the next piece overlaps the device
 * moving the earlier ones.
 */
#define SGDMA_PIN_DEPTH	4
static_assert(SGDMA_PIN_DEPTH <= SGDMA_FULL_LIST_SETS);

/**
 * struct sgdma_pinpiece - one descriptor's worth of a pinned transfer
 * @src: its source pages (H2C, H2H)
 * @dst: its destination pages (C2H, H2H)
 * @sside: @src as the device sees it
 * @dside: @dst likewise
 * @d: the descriptor
 * @done: bytes of the transfer before it
 */
struct sgdma_pinpiece {
	struct sgdma_pinned src;
	struct sgdma_pinned dst;
	struct sgdma_side sside;
	struct sgdma_side dside;
	struct sgdma_desc d;
	u64 done;
};

/**
 * struct sgdma_pipe - a pinned transfer in progress
 * @sdev: the device
 * @req: the request
 * @chan: the channel, with the device, while held; else NULL
 * @pieces: ring of pieces; @first to @next (free-running) are in flight
 * @first: oldest piece in flight
 * @next: next piece to post
 * @spos: where pinning of the source stands
 * @dpos: where pinning of the destination stands
 * @posted: bytes posted
 * @cap: most bytes per piece
 */
struct sgdma_pipe {
	struct sgdma_dev *sdev;
	struct sgdma_req *req;
	struct sgdma_chan *chan;
	struct sgdma_pinpiece *pieces;
	unsigned int first;
	unsigned int next;
	struct sgdma_iov_pos spos;
	struct sgdma_iov_pos dpos;
	u64 posted;
	u64 cap;
};

static bool sgdma_pipe_src(const struct sgdma_pipe *pp)
{
	return pp->req->op != SGDMA_OP_C2H;
}

static bool sgdma_pipe_dst(const struct sgdma_pipe *pp)
{
	return pp->req->op != SGDMA_OP_H2C;
}

/* Release a piece's pages: unmapped (or leaked) already, or never mapped. */
static void sgdma_piece_unpin(struct sgdma_pinpiece *p)
{
	sgdma_pinned_unpin(&p->src);
	sgdma_pinned_unpin(&p->dst);
}

/*
 * The device is done with a piece (completed, or the channel stopped):
 * give its pages back to the CPU, unmap and unpin them. @leak: the channel
 * would not stop and may still access them.
 */
static void sgdma_piece_finish(struct sgdma_pinpiece *p, bool leak)
{
	/* A side the transfer does not have was never set up. */
	if (p->dst.sdev && !leak)
		sgdma_pin_for_cpu(&p->dst);
	if (p->src.sdev)
		sgdma_pinned_unmap(&p->src, leak);
	if (p->dst.sdev)
		sgdma_pinned_unmap(&p->dst, leak);
	sgdma_piece_unpin(p);
}

/*
 * Pin the next @n bytes into @p. On failure nothing stays pinned and
 * the positions are where they were.
 */
static int sgdma_pipe_pin(struct sgdma_pipe *pp, struct sgdma_pinpiece *p,
			  u64 n, unsigned int gup)
{
	struct sgdma_iov_pos spos = pp->spos, dpos = pp->dpos;
	int ret = 0;

	if (sgdma_pipe_src(pp))
		ret = sgdma_pin_chunk(&p->src, &pp->spos, n, gup);
	if (!ret && sgdma_pipe_dst(pp))
		ret = sgdma_pin_chunk(&p->dst, &pp->dpos, n, gup);
	if (ret) {
		sgdma_piece_unpin(p);
		pp->spos = spos;
		pp->dpos = dpos;
	}
	return ret;
}

/* Wait for the oldest piece in flight and release it. */
static int sgdma_pipe_complete(struct sgdma_pipe *pp)
{
	struct sgdma_pinpiece *p = &pp->pieces[pp->first % SGDMA_PIN_DEPTH];
	int ret;

	ret = sgdma_chan_wait(pp->chan, &p->d);
	if (ret)
		return ret;
	sgdma_piece_finish(p, false);
	if (pp->req->flags & SGDMA_XFER_CRC)
		pp->req->crc = sgdma_crc32c_combine(pp->req->crc, p->d.crc,
						    p->d.len);
	pp->first++;
	return 0;
}

/*
 * End the pipeline: what is still in flight is stopped (the channel
 * verified stopped) and released, then the device and channel go.
 */
static void sgdma_pipe_end(struct sgdma_pipe *pp, int err)
{
	bool leak;

	if (!pp->chan)
		return;
	if (pp->first != pp->next)
		sgdma_chan_cancel(pp->chan, err);
	leak = pp->chan->abandoned;
	for (; pp->first != pp->next; pp->first++)
		sgdma_piece_finish(&pp->pieces[pp->first % SGDMA_PIN_DEPTH],
				   leak);
	sgdma_unhold(pp->chan);
	pp->chan = NULL;
}

/* Everything in flight completes, then the device and channel go. */
static int sgdma_pipe_drain(struct sgdma_pipe *pp)
{
	int ret = 0;

	while (!ret && pp->first != pp->next)
		ret = sgdma_pipe_complete(pp);
	sgdma_pipe_end(pp, ret);
	return ret;
}

/*
 * Pin the next piece. With the device held, no page may be faulted in:
 * a pin that would need a fault drains the pipeline and lets go of the
 * device, and the piece is pinned again with faults allowed, nothing
 * held; then the device and a channel are taken again.
 */
static int sgdma_pipe_pin_next(struct sgdma_pipe *pp, struct sgdma_pinpiece *p,
			       u64 n)
{
	int ret;

	if (pp->chan) {
		ret = sgdma_pipe_pin(pp, p, n, FOLL_NOFAULT);
		if (ret != -EAGAIN)
			return ret;
		ret = sgdma_pipe_drain(pp);
		if (ret)
			return ret;
	}
	ret = sgdma_pipe_pin(pp, p, n, 0);
	if (ret)
		return ret;
	pp->chan = sgdma_hold(pp->sdev, pp->req->channel);
	if (IS_ERR(pp->chan)) {
		ret = PTR_ERR(pp->chan);
		pp->chan = NULL;
		sgdma_piece_unpin(p);
	}
	return ret;
}

/* Map a pinned piece into list set @set of the channel and post it. */
static int sgdma_pipe_post(struct sgdma_pipe *pp, struct sgdma_pinpiece *p,
			   unsigned int set, u64 n)
{
	struct sgdma_chan *chan = pp->chan;
	struct sgdma_req *req = pp->req;
	int ret;

	ret = sgdma_chan_lists(chan, set);
	if (!ret && sgdma_pipe_src(pp))
		ret = sgdma_pin_map(&p->src, &p->sside, &chan->src[set]);
	if (!ret && sgdma_pipe_dst(pp))
		ret = sgdma_pin_map(&p->dst, &p->dside, &chan->dst[set]);
	if (ret)
		return ret;
	p->done = pp->posted;
	p->d = (struct sgdma_desc){
		.opcode = req->op,
		.want_crc = req->flags & SGDMA_XFER_CRC,
		.poll = sgdma_want_poll(req->flags, n),
		.src = sgdma_pipe_src(pp) ? &p->sside : NULL,
		.card_src = req->card_offset + p->done,
		.dst = sgdma_pipe_dst(pp) ? &p->dside : NULL,
		.card_dst = req->card_offset + p->done,
		.len = n,
	};
	return sgdma_chan_post(chan, &p->d);
}

/* Pin, map and post the next piece of the transfer. */
static int sgdma_pipe_add(struct sgdma_pipe *pp)
{
	const struct sgdma_limits *lim = &pp->sdev->lim;
	unsigned int set = pp->next % SGDMA_PIN_DEPTH;
	struct sgdma_pinpiece *p = &pp->pieces[set];
	u64 n = min(pp->req->len - pp->posted, pp->cap);
	int ret;

	if (sgdma_pipe_src(pp))
		n = sgdma_iov_span(&pp->spos, n, lim->pin_pages);
	if (sgdma_pipe_dst(pp))
		n = sgdma_iov_span(&pp->dpos, n, lim->pin_pages);
	ret = sgdma_pipe_pin_next(pp, p, n);
	if (ret)
		return ret;
	ret = sgdma_pipe_post(pp, p, set, n);
	if (ret) {
		/* Never handed to the device. */
		sgdma_piece_finish(p, false);
		return ret;
	}
	pp->posted += n;
	pp->next++;
	return 0;
}

/* Whether another piece can go in flight now. */
static bool sgdma_pipe_room(const struct sgdma_pipe *pp)
{
	return pp->posted < pp->req->len &&
	       pp->next - pp->first < SGDMA_PIN_DEPTH &&
	       (!pp->chan || sgdma_chan_depth(pp->chan));
}

static int sgdma_pipe_init(struct sgdma_dev *sdev, struct sgdma_pipe *pp)
{
	const struct sgdma_limits *lim = &sdev->lim;
	u64 max_segment;
	unsigned int i;
	int ret;

	pp->cap = ALIGN_DOWN(min_t(u64, lim->max_desc_len,
				   (u64)lim->pin_pages * PAGE_SIZE),
			     lim->seg_align);
	ret = sgdma_pin_max_segment(sdev, &max_segment);
	if (ret)
		return ret;
	pp->pieces = kcalloc(SGDMA_PIN_DEPTH, sizeof(*pp->pieces), GFP_KERNEL);
	if (!pp->pieces)
		return -ENOMEM;
	for (i = 0; !ret && i < SGDMA_PIN_DEPTH; i++) {
		struct sgdma_pinpiece *p = &pp->pieces[i];

		if (sgdma_pipe_src(pp))
			ret = sgdma_pinned_alloc(sdev, &p->src, DMA_TO_DEVICE,
						 max_segment);
		if (!ret && sgdma_pipe_dst(pp))
			ret = sgdma_pinned_alloc(sdev, &p->dst,
						 DMA_FROM_DEVICE, max_segment);
	}
	return ret;
}

static void sgdma_pipe_free(struct sgdma_pipe *pp)
{
	unsigned int i;

	for (i = 0; pp->pieces && i < SGDMA_PIN_DEPTH; i++) {
		sgdma_pinned_free(&pp->pieces[i].src);
		sgdma_pinned_free(&pp->pieces[i].dst);
	}
	kfree(pp->pieces);
}

int sgdma_xfer_pinned(struct sgdma_dev *sdev, struct sgdma_req *req)
{
	struct sgdma_pipe pp = {
		.sdev = sdev,
		.req = req,
		.spos = { req->src, req->nr_src },
		.dpos = { req->dst, req->nr_dst },
	};
	int ret;

	req->crc = 0;
	ret = sgdma_pipe_init(sdev, &pp);
	while (!ret && (pp.posted < req->len || pp.first != pp.next)) {
		if (sgdma_pipe_room(&pp))
			ret = sgdma_pipe_add(&pp);
		else
			ret = sgdma_pipe_complete(&pp);
	}
	sgdma_pipe_end(&pp, ret);
	sgdma_pipe_free(&pp);
	return ret;
}
