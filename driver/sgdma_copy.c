// SPDX-License-Identifier: GPL-2.0
/*
 * sgdma copy path: transfers through the channel's bounce buffer, for
 * SGDMA_IOC_XFER (sgdma_xfer_copy()) and for read(2)/write(2) of card
 * memory (sgdma_copy_rw()).
 *
 * Copy path: user data is copied into (or out of) the channel's bounce
 * buffer, which was mapped for DMA once at probe, and the device moves it
 * from (or to) there, one buffer-full per descriptor. Cheap to set up, so
 * it wins for small transfers; it also serves any buffer alignment.
 *
 * The device needs host segments aligned to SEG_ALIGN. Bounce buffers are
 * aligned; a piece whose length is not is padded: C2H reads an aligned
 * window of card memory around it, H2C writes one back after reading it
 * (read-modify-write, so concurrent writers to the same SEG_ALIGN block of
 * card memory may race), H2H pads with zeros. The CRC the caller gets still
 * covers exactly its bytes (sgdma_crc32c_strip()).
 *
 * Locking (see sgdma_xfer.c). Each descriptor's worth of work takes the
 * device and a channel only for the copy into or out of the bounce buffer
 * (with page faults disabled, after the pages were faulted in without
 * locks; a page gone by then sends the piece through kernel memory).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "sgdma.h"
#include "sgdma_xfer.h"

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

int sgdma_xfer_copy(struct sgdma_dev *sdev, struct sgdma_req *req)
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
