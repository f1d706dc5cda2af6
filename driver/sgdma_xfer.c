// SPDX-License-Identifier: GPL-2.0
/*
 * sgdma transfers: moving user data through a channel.
 *
 * Copy path: user data is copied into (or out of) the channel's bounce
 * buffer, which was mapped for DMA once at probe, and the device moves it
 * from (or to) there, one buffer-full per descriptor. Cheap to set up, so
 * it wins for small transfers; it also serves any buffer alignment.
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
 * Both map with explicit ownership transfers: dma_sync_*_for_device()
 * before the device reads or writes a buffer, dma_sync_*_for_cpu() after
 * it wrote one, and no implicit syncs in map/unmap of pinned pages. The
 * swiotlb=force boot of the test matrix fails if any of them is missing.
 *
 * The device needs host segments aligned to SEG_ALIGN. Bounce buffers are
 * aligned; a piece whose length is not is padded: C2H reads an aligned
 * window of card memory around it, H2C writes one back after reading it
 * (read-modify-write, so concurrent writers to the same SEG_ALIGN block of
 * card memory may race), H2H pads with zeros. The CRC the caller gets still
 * covers exactly its bytes (sgdma_crc32c_strip()). Pinned buffers must be
 * aligned themselves; automatic mode uses the copy path when they are not,
 * and for memory GUP cannot pin (VM_IO, VM_PFNMAP).
 *
 * Locking. User memory is never faulted in, copied or pinned while the
 * device (@sdev->lock) or a channel is held: a fault may take for ever (a
 * userfaultfd whose handler does not answer, a file system that hangs),
 * and removal and every other user of the channel would wait for it. Each
 * descriptor's worth of work takes the device and a channel only for the
 * copy into or out of the bounce buffer (with page faults disabled, after
 * the pages were faulted in without locks; a page gone by then sends the
 * piece through kernel memory). The pinned path holds them while pieces
 * are in flight and pins the next piece with FOLL_NOFAULT meanwhile; a
 * pin that would need a fault drains the pipeline, lets go of the device
 * and pins that piece with faults allowed, nothing held. A device removed
 * meanwhile fails the next piece with -ENODEV.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "sgdma.h"
#include "sgdma_trace.h"

/*
 * Take the device and a channel (@index, or -1 for any) for one
 * descriptor's worth of work: ERR_PTR(-ENODEV) once removal began.
 */
static struct sgdma_chan *sgdma_hold(struct sgdma_dev *sdev, int index)
{
	struct sgdma_chan *chan;
	int ret;

	ret = sgdma_get_live(sdev);
	if (ret)
		return ERR_PTR(ret);
	chan = sgdma_chan_get(sdev, index);
	if (IS_ERR(chan))
		sgdma_put_live(sdev);
	return chan;
}

static void sgdma_unhold(struct sgdma_chan *chan)
{
	struct sgdma_dev *sdev = chan->sdev;

	sgdma_chan_put(chan);
	sgdma_put_live(sdev);
}

/*
 * Run one descriptor on a held channel: @flags are the caller's
 * SGDMA_XFER_* (CRC, POLL); *@crc, if not NULL, gets the device's CRC.
 */
static int sgdma_run(struct sgdma_chan *chan, u32 flags, u8 opcode,
		     struct sgdma_side *src, u64 card_src,
		     struct sgdma_side *dst, u64 card_dst, u32 len, u32 *crc)
{
	struct sgdma_desc d = {
		.opcode = opcode,
		.want_crc = flags & SGDMA_XFER_CRC,
		.poll = sgdma_want_poll(flags, len),
		.src = src,
		.card_src = card_src,
		.dst = dst,
		.card_dst = card_dst,
		.len = len,
	};
	int ret = sgdma_chan_run(chan, &d);

	if (!ret && crc)
		*crc = d.crc;
	return ret;
}

/* ---- copy path ---- */

/*
 * Copies between user memory and the bounce buffer under the locks: with
 * page faults disabled, they come up short instead of faulting. Short:
 * the iterator is put back and the piece goes through kernel memory
 * (-EAGAIN, sgdma_copy_piece()).
 */
static int sgdma_copy_in(void *dst, u32 n, struct iov_iter *from)
{
	size_t got;

	pagefault_disable();
	got = copy_from_iter(dst, n, from);
	pagefault_enable();
	if (got == n)
		return 0;
	iov_iter_revert(from, got);
	return -EAGAIN;
}

static int sgdma_copy_out(const void *src, u32 n, struct iov_iter *to)
{
	size_t got;

	pagefault_disable();
	got = copy_to_iter(src, n, to);
	pagefault_enable();
	if (got == n)
		return 0;
	iov_iter_revert(to, got);
	return -EAGAIN;
}

static void sgdma_bounce_for_device(struct sgdma_chan *chan, u32 off,
				    u32 len, enum dma_data_direction dir)
{
	dma_sync_single_range_for_device(sgdma_dma_dev(chan->sdev),
					 chan->bounce_dma, off, len, dir);
}

static void sgdma_bounce_for_cpu(struct sgdma_chan *chan, u32 off, u32 len,
				 enum dma_data_direction dir)
{
	dma_sync_single_range_for_cpu(sgdma_dma_dev(chan->sdev),
				      chan->bounce_dma, off, len, dir);
}

static int sgdma_bounce_side(struct sgdma_chan *chan, struct sgdma_side *side,
			     struct sgdma_seglist *l, u32 off, u32 len)
{
	sgdma_seglist_reset(side, l);
	return sgdma_side_add(chan->sdev, side, chan->bounce_dma + off, len);
}

/*
 * The card window a piece of @n bytes at @off moves through: @len aligned
 * to SEG_ALIGN, inside card memory, holding the piece @head bytes in.
 */
struct sgdma_window {
	u64 start;
	u32 len;
	u32 head;
};

static void sgdma_window(const struct sgdma_limits *lim, u64 off, u32 n,
			 struct sgdma_window *w)
{
	w->len = ALIGN(n, lim->seg_align);
	w->start = off;
	/* card_size is a multiple of seg_align, so this stays >= 0 */
	if (w->start + w->len > lim->card_size)
		w->start = lim->card_size - w->len;
	w->head = off - w->start;
}

/* CRC of the piece from the CRC of its window (same if unpadded). */
static u32 sgdma_window_crc(struct sgdma_chan *chan,
			    const struct sgdma_window *w, u32 n, u32 crc)
{
	const u8 *buf = chan->bounce;

	if (w->len == n)
		return crc;
	return sgdma_crc32c_strip(crc, buf, w->head, n, buf + w->head + n,
				  w->len - w->head - n);
}

/* Card memory -> bounce buffer; the piece is then at bounce + w->head. */
static int sgdma_c2h_piece(struct sgdma_chan *chan, u64 off, u32 n,
			   struct sgdma_window *w, u32 flags, u32 *crc)
{
	struct sgdma_side side;
	int ret;

	sgdma_window(&chan->sdev->lim, off, n, w);
	ret = sgdma_bounce_side(chan, &side, &chan->dst[0], 0, w->len);
	if (ret)
		return ret;
	sgdma_bounce_for_device(chan, 0, w->len, DMA_FROM_DEVICE);
	ret = sgdma_run(chan, flags, SGDMA_OP_C2H, NULL, w->start, &side, 0,
			w->len, crc);
	sgdma_bounce_for_cpu(chan, 0, w->len, DMA_FROM_DEVICE);
	if (ret)
		return ret;
	if (flags & SGDMA_XFER_CRC)
		*crc = sgdma_window_crc(chan, w, n, *crc);
	return 0;
}

/* User -> bounce buffer -> card memory. */
static int sgdma_h2c_piece(struct sgdma_chan *chan, struct iov_iter *from,
			   u64 off, u32 n, u32 flags, u32 *crc)
{
	struct sgdma_window w;
	struct sgdma_side side;
	int ret;

	sgdma_window(&chan->sdev->lim, off, n, &w);
	if (w.len != n) {
		/* Read the window first: its padding is written back as is. */
		ret = sgdma_c2h_piece(chan, w.start, w.len, &w, 0, NULL);
		if (ret)
			return ret;
		sgdma_window(&chan->sdev->lim, off, n, &w);
	}
	ret = sgdma_copy_in(chan->bounce + w.head, n, from);
	if (ret)
		return ret;

	ret = sgdma_bounce_side(chan, &side, &chan->src[0], 0, w.len);
	if (ret)
		return ret;
	sgdma_bounce_for_device(chan, 0, w.len, DMA_TO_DEVICE);
	ret = sgdma_run(chan, flags, SGDMA_OP_H2C, &side, 0, NULL, w.start,
			w.len, crc);
	if (ret)
		return ret;
	if (flags & SGDMA_XFER_CRC)
		*crc = sgdma_window_crc(chan, &w, n, *crc);
	return 0;
}

/* Card memory -> bounce buffer -> user. */
static int sgdma_c2h_user_piece(struct sgdma_chan *chan, struct iov_iter *to,
				u64 off, u32 n, u32 flags, u32 *crc)
{
	struct sgdma_window w;
	int ret;

	ret = sgdma_c2h_piece(chan, off, n, &w, flags, crc);
	if (ret)
		return ret;
	return sgdma_copy_out(chan->bounce + w.head, n, to);
}

/* User -> bounce (first half) -> device -> bounce (second half) -> user. */
static int sgdma_h2h_piece(struct sgdma_chan *chan, struct iov_iter *from,
			   struct iov_iter *to, u32 n, u32 flags, u32 *crc)
{
	const struct sgdma_limits *lim = &chan->sdev->lim;
	u32 half = lim->bounce_size / 2;
	u32 npad = ALIGN(n, lim->seg_align);
	u8 *src = chan->bounce, *dst = src + half;
	struct sgdma_side sside, dside;
	int ret;

	ret = sgdma_copy_in(src, n, from);
	if (ret)
		return ret;
	memset(src + n, 0, npad - n);

	ret = sgdma_bounce_side(chan, &sside, &chan->src[0], 0, npad);
	if (!ret)
		ret = sgdma_bounce_side(chan, &dside, &chan->dst[0], half, npad);
	if (ret)
		return ret;
	sgdma_bounce_for_device(chan, 0, npad, DMA_TO_DEVICE);
	sgdma_bounce_for_device(chan, half, npad, DMA_FROM_DEVICE);
	ret = sgdma_run(chan, flags, SGDMA_OP_H2H, &sside, 0, &dside, 0, npad,
			crc);
	sgdma_bounce_for_cpu(chan, half, npad, DMA_FROM_DEVICE);
	if (ret)
		return ret;
	ret = sgdma_copy_out(dst, n, to);
	if (ret) {
		/* Tried again from the start, source included. */
		iov_iter_revert(from, n);
		return ret;
	}
	if (flags & SGDMA_XFER_CRC)
		*crc = sgdma_crc32c_strip(*crc, NULL, 0, n, src + n, npad - n);
	return 0;
}

/*
 * One piece of the copy path (@op; @from, @to: the sides it has), its
 * memory faulted in without locks, then the device and a channel taken for
 * the copy and the run. -EAGAIN: a user page went away between its
 * fault-in and the copy.
 */
static int sgdma_copy_piece_held(struct sgdma_dev *sdev, int channel,
				 unsigned int op, struct iov_iter *from,
				 struct iov_iter *to, u64 off, u32 n,
				 u32 flags, u32 *crc)
{
	struct sgdma_chan *chan;
	int ret;

	/* Not all of it can be faulted in: none of it moves. */
	if ((from && fault_in_iov_iter_readable(from, n)) ||
	    (to && fault_in_iov_iter_writeable(to, n)))
		return -EFAULT;
	chan = sgdma_hold(sdev, channel);
	if (IS_ERR(chan))
		return PTR_ERR(chan);
	if (op == SGDMA_OP_H2C)
		ret = sgdma_h2c_piece(chan, from, off, n, flags, crc);
	else if (op == SGDMA_OP_C2H)
		ret = sgdma_c2h_user_piece(chan, to, off, n, flags, crc);
	else
		ret = sgdma_h2h_piece(chan, from, to, n, flags, crc);
	sgdma_unhold(chan);
	return ret;
}

/*
 * One piece of the copy path. When a user page went away between its
 * fault-in and the copy (reclaimed, cleaned by writeback, unmapped, or a
 * copy failed by fault injection), the piece goes through kernel memory,
 * copied from and to the user without locks and with faults allowed.
 */
static int sgdma_copy_piece(struct sgdma_dev *sdev, int channel,
			    unsigned int op, struct iov_iter *from,
			    struct iov_iter *to, u64 off, u32 n,
			    u32 flags, u32 *crc)
{
	struct iov_iter kfrom, kto;
	struct kvec ksrc, kdst;
	u8 *stage;
	int ret;

	ret = sgdma_copy_piece_held(sdev, channel, op, from, to, off, n,
				    flags, crc);
	if (ret != -EAGAIN)
		return ret;

	stage = kvmalloc(2 * (size_t)n, GFP_KERNEL);
	if (!stage)
		return -ENOMEM;
	ksrc = (struct kvec){ .iov_base = stage, .iov_len = n };
	kdst = (struct kvec){ .iov_base = stage + n, .iov_len = n };
	iov_iter_kvec(&kfrom, ITER_SOURCE, &ksrc, 1, n);
	iov_iter_kvec(&kto, ITER_DEST, &kdst, 1, n);
	if (from && copy_from_iter(stage, n, from) != n) {
		ret = -EFAULT;
		goto out;
	}
	ret = sgdma_copy_piece_held(sdev, channel, op, from ? &kfrom : NULL,
				    to ? &kto : NULL, off, n, flags, crc);
	/* Kernel memory is always there. */
	if (WARN_ON_ONCE(ret == -EAGAIN))
		ret = -EFAULT;
	if (!ret && to && copy_to_iter(stage + n, n, to) != n)
		ret = -EFAULT;
out:
	kvfree(stage);
	return ret;
}

/*
 * Move @len bytes through the copy path, between @from and card memory at
 * @off (H2C), card memory and @to (C2H), or @from and @to (H2H).
 * *@done counts the bytes moved, also on failure.
 */
static int sgdma_copy_run(struct sgdma_dev *sdev, int channel,
			  unsigned int op, struct iov_iter *from,
			  struct iov_iter *to, u64 off, u64 len,
			  u32 flags, u32 *crc, u64 *done)
{
	const struct sgdma_limits *lim = &sdev->lim;
	u32 chunk = op == SGDMA_OP_H2H ? lim->copy_half : lim->copy_chunk;
	u32 piece_crc = 0;
	int ret;

	*done = 0;
	if (crc)
		*crc = 0;
	while (*done < len) {
		u32 n = min_t(u64, len - *done, chunk);

		ret = sgdma_copy_piece(sdev, channel, op, from, to,
				       off + *done, n, flags, &piece_crc);
		if (ret)
			return ret;
		if (flags & SGDMA_XFER_CRC)
			*crc = sgdma_crc32c_combine(*crc, piece_crc, n);
		*done += n;
	}
	return 0;
}

static int sgdma_xfer_copy(struct sgdma_dev *sdev, struct sgdma_req *req)
{
	struct iov_iter src, dst, *from = NULL, *to = NULL;
	u64 done;

	if (req->op != SGDMA_OP_C2H) {
		iov_iter_init(&src, ITER_SOURCE, req->src, req->nr_src,
			      req->len);
		from = &src;
	}
	if (req->op != SGDMA_OP_H2C) {
		iov_iter_init(&dst, ITER_DEST, req->dst, req->nr_dst, req->len);
		to = &dst;
	}
	return sgdma_copy_run(sdev, req->channel, req->op, from, to,
			      req->card_offset, req->len, req->flags, &req->crc,
			      &done);
}

/**
 * sgdma_copy_rw() - read(2)/write(2) of card memory
 * @sdev: the device, not held: each piece takes it
 * @iter: the caller's buffers
 * @card_offset: card memory position; the range is inside card memory
 * @to_card: write (true) or read
 *
 * Return: bytes moved if any, else a negative errno.
 */
ssize_t sgdma_copy_rw(struct sgdma_dev *sdev, struct iov_iter *iter,
		      u64 card_offset, bool to_card)
{
	u64 done;
	int ret;

	ret = sgdma_copy_run(sdev, -1, to_card ? SGDMA_OP_H2C : SGDMA_OP_C2H,
			     to_card ? iter : NULL, to_card ? NULL : iter,
			     card_offset, iov_iter_count(iter), 0, NULL,
			     &done);
	return done ? done : ret;
}

/* ---- pinned path ---- */

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

static int sgdma_xfer_pinned(struct sgdma_dev *sdev, struct sgdma_req *req)
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

/* Whether the device can take the caller's buffers as they are. */
static bool sgdma_iovs_aligned(const struct iovec *iov, unsigned int nr,
			       u32 align)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (iov[i].iov_len &&
		    !IS_ALIGNED((unsigned long)iov[i].iov_base | iov[i].iov_len,
				align))
			return false;
	return true;
}

/*
 * Whether GUP can pin the caller's buffers: it refuses VM_IO and VM_PFNMAP
 * mappings (card memory or a coherent buffer mapped by this driver, say),
 * which the copy path still reaches through copy_{from,to}_user(). A hole
 * is left to the pin, which reports it.
 */
static bool sgdma_iovs_pinnable(const struct iovec *iov, unsigned int nr)
{
	struct mm_struct *mm = current->mm;
	bool pinnable = true;
	unsigned int i;

	if (!mm || mmap_read_lock_killable(mm))
		return false;
	for (i = 0; pinnable && i < nr; i++) {
		unsigned long addr = (unsigned long)iov[i].iov_base;
		unsigned long end = addr + iov[i].iov_len;
		struct vm_area_struct *vma;

		for (; addr < end; addr = vma->vm_end) {
			vma = find_vma_intersection(mm, addr, end);
			if (!vma)
				break;
			if (vma->vm_flags & (VM_IO | VM_PFNMAP)) {
				pinnable = false;
				break;
			}
		}
	}
	mmap_read_unlock(mm);
	return pinnable;
}

static int sgdma_choose_path(struct sgdma_dev *sdev,
			     const struct sgdma_req *req)
{
	u32 align = sdev->lim.seg_align;
	bool pinnable = sdev->lim.pin_pages &&
			sgdma_iovs_aligned(req->src, req->nr_src, align) &&
			sgdma_iovs_aligned(req->dst, req->nr_dst, align);

	if (req->flags & SGDMA_XFER_PINNED)
		return pinnable ? SGDMA_PATH_PINNED : -EINVAL;
	if (req->flags & SGDMA_XFER_COPY)
		return SGDMA_PATH_COPY;
	if (pinnable && req->len >= READ_ONCE(sgdma_copy_threshold) &&
	    sgdma_iovs_pinnable(req->src, req->nr_src) &&
	    sgdma_iovs_pinnable(req->dst, req->nr_dst))
		return SGDMA_PATH_PINNED;
	return SGDMA_PATH_COPY;
}

/**
 * sgdma_xfer() - run a validated transfer request
 * @sdev: the device, not held: each descriptor's worth of work takes it
 * @req: the request; @req->crc and @req->path are set on success
 *
 * Return: 0 or a negative errno (see struct sgdma_xfer in the uapi).
 */
int sgdma_xfer(struct sgdma_dev *sdev, struct sgdma_req *req)
{
	int path, ret;

	req->crc = 0;
	req->path = SGDMA_PATH_NONE;
	path = sgdma_choose_path(sdev, req);
	if (path < 0)
		return path;
	if (!req->len)
		return 0;

	if (path == SGDMA_PATH_PINNED)
		ret = sgdma_xfer_pinned(sdev, req);
	else
		ret = sgdma_xfer_copy(sdev, req);

	if (!ret)
		req->path = path;
	return ret;
}
