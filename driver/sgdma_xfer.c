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
 * descriptor, so one call never pins more than that at a time.
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
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "sgdma.h"
#include "sgdma_trace.h"

/* ---- copy path ---- */

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
			   struct sgdma_window *w, bool want_crc, u32 *crc)
{
	struct sgdma_side side;
	int ret;

	sgdma_window(&chan->sdev->lim, off, n, w);
	ret = sgdma_bounce_side(chan, &side, &chan->dst, 0, w->len);
	if (ret)
		return ret;
	sgdma_bounce_for_device(chan, 0, w->len, DMA_FROM_DEVICE);
	ret = sgdma_chan_run(chan, SGDMA_OP_C2H, want_crc, NULL, w->start,
			     &side, 0, w->len, crc);
	sgdma_bounce_for_cpu(chan, 0, w->len, DMA_FROM_DEVICE);
	if (ret)
		return ret;
	if (want_crc)
		*crc = sgdma_window_crc(chan, w, n, *crc);
	return 0;
}

/* User -> bounce buffer -> card memory. */
static int sgdma_h2c_piece(struct sgdma_chan *chan, struct iov_iter *from,
			   u64 off, u32 n, bool want_crc, u32 *crc)
{
	struct sgdma_window w;
	struct sgdma_side side;
	int ret;

	sgdma_window(&chan->sdev->lim, off, n, &w);
	if (w.len != n) {
		/* Read the window first: its padding is written back as is. */
		ret = sgdma_c2h_piece(chan, w.start, w.len, &w, false, NULL);
		if (ret)
			return ret;
		sgdma_window(&chan->sdev->lim, off, n, &w);
	}
	if (copy_from_iter(chan->bounce + w.head, n, from) != n)
		return -EFAULT;

	ret = sgdma_bounce_side(chan, &side, &chan->src, 0, w.len);
	if (ret)
		return ret;
	sgdma_bounce_for_device(chan, 0, w.len, DMA_TO_DEVICE);
	ret = sgdma_chan_run(chan, SGDMA_OP_H2C, want_crc, &side, 0, NULL,
			     w.start, w.len, crc);
	if (ret)
		return ret;
	if (want_crc)
		*crc = sgdma_window_crc(chan, &w, n, *crc);
	return 0;
}

/*
 * Move @len bytes between @iter and card memory at @off through the copy
 * path. *@done counts the bytes moved, also on failure.
 */
static int sgdma_copy_card(struct sgdma_chan *chan, struct iov_iter *iter,
			   u64 off, u64 len, bool to_card, bool want_crc,
			   u32 *crc, u64 *done)
{
	const struct sgdma_limits *lim = &chan->sdev->lim;
	u32 piece_crc = 0;
	int ret;

	*done = 0;
	if (crc)
		*crc = 0;
	while (*done < len) {
		u32 n = min_t(u64, len - *done, lim->copy_chunk);
		struct sgdma_window w;

		if (to_card) {
			ret = sgdma_h2c_piece(chan, iter, off + *done, n,
					      want_crc, &piece_crc);
		} else {
			ret = sgdma_c2h_piece(chan, off + *done, n, &w,
					      want_crc, &piece_crc);
			if (!ret && copy_to_iter(chan->bounce + w.head, n,
						 iter) != n)
				ret = -EFAULT;
		}
		if (ret)
			return ret;
		if (want_crc)
			*crc = sgdma_crc32c_combine(*crc, piece_crc, n);
		*done += n;
	}
	return 0;
}

/* User -> bounce (first half) -> device -> bounce (second half) -> user. */
static int sgdma_copy_h2h(struct sgdma_chan *chan, struct iov_iter *from,
			  struct iov_iter *to, u64 len, bool want_crc,
			  u32 *crc)
{
	const struct sgdma_limits *lim = &chan->sdev->lim;
	u32 half = lim->bounce_size / 2;
	u8 *src = chan->bounce, *dst = src + half;
	struct sgdma_side sside, dside;
	u64 done = 0;
	int ret;

	*crc = 0;
	while (done < len) {
		u32 n = min_t(u64, len - done, lim->copy_half);
		u32 npad = ALIGN(n, lim->seg_align), piece_crc;

		if (copy_from_iter(src, n, from) != n)
			return -EFAULT;
		memset(src + n, 0, npad - n);

		ret = sgdma_bounce_side(chan, &sside, &chan->src, 0, npad);
		if (!ret)
			ret = sgdma_bounce_side(chan, &dside, &chan->dst, half,
						npad);
		if (ret)
			return ret;
		sgdma_bounce_for_device(chan, 0, npad, DMA_TO_DEVICE);
		sgdma_bounce_for_device(chan, half, npad, DMA_FROM_DEVICE);
		ret = sgdma_chan_run(chan, SGDMA_OP_H2H, want_crc, &sside, 0,
				     &dside, 0, npad, &piece_crc);
		sgdma_bounce_for_cpu(chan, half, npad, DMA_FROM_DEVICE);
		if (ret)
			return ret;
		if (copy_to_iter(dst, n, to) != n)
			return -EFAULT;
		if (want_crc) {
			piece_crc = sgdma_crc32c_strip(piece_crc, NULL, 0, n,
						       src + n, npad - n);
			*crc = sgdma_crc32c_combine(*crc, piece_crc, n);
		}
		done += n;
	}
	return 0;
}

static int sgdma_xfer_copy(struct sgdma_chan *chan, struct sgdma_req *req)
{
	bool want_crc = req->flags & SGDMA_XFER_CRC;
	struct iov_iter src, dst;
	u64 done;

	if (req->op != SGDMA_OP_C2H)
		iov_iter_init(&src, ITER_SOURCE, req->src, req->nr_src,
			      req->len);
	if (req->op != SGDMA_OP_H2C)
		iov_iter_init(&dst, ITER_DEST, req->dst, req->nr_dst, req->len);

	switch (req->op) {
	case SGDMA_OP_H2C:
		return sgdma_copy_card(chan, &src, req->card_offset, req->len,
				       true, want_crc, &req->crc, &done);
	case SGDMA_OP_C2H:
		return sgdma_copy_card(chan, &dst, req->card_offset, req->len,
				       false, want_crc, &req->crc, &done);
	default:
		return sgdma_copy_h2h(chan, &src, &dst, req->len, want_crc,
				      &req->crc);
	}
}

/**
 * sgdma_copy_rw() - read(2)/write(2) of card memory
 * @sdev: the device, live
 * @iter: the caller's buffers
 * @card_offset: card memory position; the range is inside card memory
 * @to_card: write (true) or read
 *
 * Return: bytes moved if any, else a negative errno.
 */
ssize_t sgdma_copy_rw(struct sgdma_dev *sdev, struct iov_iter *iter,
		      u64 card_offset, bool to_card)
{
	struct sgdma_chan *chan;
	u64 done;
	int ret;

	chan = sgdma_chan_get(sdev, -1);
	if (IS_ERR(chan))
		return PTR_ERR(chan);
	ret = sgdma_copy_card(chan, iter, card_offset, iov_iter_count(iter),
			      to_card, false, NULL, &done);
	sgdma_chan_put(chan);
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

/* One host side of a pinned chunk: its pages and their mapped tables. */
struct sgdma_pinned {
	struct sgdma_dev *sdev;
	enum dma_data_direction dir;
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
 * Unmap and unpin the pages; @leak: the channel would not stop and may
 * still write them, so they stay pinned and mapped for good.
 */
static void sgdma_pinned_release(struct sgdma_pinned *p, bool leak)
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
	for (i = 0; i < p->nsgts; i++)
		sg_free_table(&p->sgts[i]);
	if (p->npages) {
		unpin_user_pages_dirty_lock(p->pages, p->npages,
					    p->dir == DMA_FROM_DEVICE);
		atomic_long_sub(p->npages, &p->sdev->stats.pages_pinned);
	}
	p->nmapped = 0;
	p->nsgts = 0;
	p->npages = 0;
}

/* Pin @len bytes from @pos on, one table per iovec piece. */
static int sgdma_pin_chunk(struct sgdma_pinned *p, struct sgdma_iov_pos *pos,
			   u64 len)
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
					  write ? FOLL_WRITE : 0,
					  p->pages + p->npages);
		if (got > 0) {
			p->npages += got;
			atomic_long_add(got, &p->sdev->stats.pages_pinned);
		}
		trace_sgdma_pin(p->sdev->minor, uaddr, max(got, 0), write);
		/* A short pin: the caller releases what was pinned. */
		if (got != np)
			return got < 0 ? got : -EFAULT;

		/* Entries within the device's segment limits. */
		ret = sgdma_sg_from_pages(p->sdev, &p->sgts[p->nsgts],
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
			      enum dma_data_direction dir)
{
	p->sdev = sdev;
	p->dir = dir;
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

/* One descriptor's worth of a pinned transfer: pin, map, run, release. */
static int sgdma_pinned_chunk(struct sgdma_chan *chan, struct sgdma_req *req,
			      struct sgdma_pinned *ps, struct sgdma_iov_pos *spos,
			      struct sgdma_pinned *pd, struct sgdma_iov_pos *dpos,
			      u64 done, u32 n, u32 *crc)
{
	bool want_crc = req->flags & SGDMA_XFER_CRC;
	struct sgdma_side sside, dside;
	int ret = 0;

	if (ps)
		ret = sgdma_pin_chunk(ps, spos, n) ?:
		      sgdma_pin_map(ps, &sside, &chan->src);
	if (!ret && pd)
		ret = sgdma_pin_chunk(pd, dpos, n) ?:
		      sgdma_pin_map(pd, &dside, &chan->dst);
	if (!ret) {
		ret = sgdma_chan_run(chan, req->op, want_crc,
				     ps ? &sside : NULL, req->card_offset + done,
				     pd ? &dside : NULL, req->card_offset + done,
				     n, crc);
		if (pd && !chan->abandoned)
			sgdma_pin_for_cpu(pd);
	}
	if (ps)
		sgdma_pinned_release(ps, chan->abandoned);
	if (pd)
		sgdma_pinned_release(pd, chan->abandoned);
	return ret;
}

static int sgdma_xfer_pinned(struct sgdma_chan *chan, struct sgdma_req *req)
{
	struct sgdma_dev *sdev = chan->sdev;
	const struct sgdma_limits *lim = &sdev->lim;
	struct sgdma_iov_pos spos = { req->src, req->nr_src };
	struct sgdma_iov_pos dpos = { req->dst, req->nr_dst };
	struct sgdma_pinned src = { }, dst = { };
	struct sgdma_pinned *ps = NULL, *pd = NULL;
	u64 done = 0, cap;
	int ret = 0;

	cap = ALIGN_DOWN(min_t(u64, lim->max_desc_len,
			       (u64)lim->pin_pages * PAGE_SIZE), lim->seg_align);
	if (req->op != SGDMA_OP_C2H) {
		ps = &src;
		ret = sgdma_pinned_alloc(sdev, ps, DMA_TO_DEVICE);
	}
	if (!ret && req->op != SGDMA_OP_H2C) {
		pd = &dst;
		ret = sgdma_pinned_alloc(sdev, pd, DMA_FROM_DEVICE);
	}

	req->crc = 0;
	while (!ret && done < req->len) {
		u64 n = min(req->len - done, cap);
		u32 piece_crc = 0;

		if (ps)
			n = sgdma_iov_span(&spos, n, lim->pin_pages);
		if (pd)
			n = sgdma_iov_span(&dpos, n, lim->pin_pages);
		ret = sgdma_pinned_chunk(chan, req, ps, &spos, pd, &dpos, done,
					 n, &piece_crc);
		if (!ret && (req->flags & SGDMA_XFER_CRC))
			req->crc = sgdma_crc32c_combine(req->crc, piece_crc, n);
		done += n;
	}

	sgdma_pinned_free(&src);
	sgdma_pinned_free(&dst);
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
 * @sdev: the device, live
 * @req: the request; @req->crc and @req->path are set on success
 *
 * Return: 0 or a negative errno (see struct sgdma_xfer in the uapi).
 */
int sgdma_xfer(struct sgdma_dev *sdev, struct sgdma_req *req)
{
	struct sgdma_chan *chan;
	int path, ret;

	req->crc = 0;
	req->path = SGDMA_PATH_NONE;
	path = sgdma_choose_path(sdev, req);
	if (path < 0)
		return path;
	if (!req->len)
		return 0;

	chan = sgdma_chan_get(sdev, req->channel);
	if (IS_ERR(chan))
		return PTR_ERR(chan);
	if (path == SGDMA_PATH_PINNED)
		ret = sgdma_xfer_pinned(chan, req);
	else
		ret = sgdma_xfer_copy(chan, req);
	sgdma_chan_put(chan);

	if (!ret)
		req->path = path;
	return ret;
}
