// SPDX-License-Identifier: GPL-2.0
/*
 * sgdma buffers in transfers: resolving a request's handles and holding
 * its buffers (a reference and a busy count each) while it runs, syncing
 * the bytes a transfer moves and describing them as segment lists.
 */

#include <linux/minmax.h>
#include <linux/overflow.h>

#include "sgdma.h"
#include "sgdma_buf.h"

static int sgdma_bufreq_take(struct sgdma_file *sf, u32 handle, u64 off,
			     u64 len, bool dst, struct sgdma_buf **bufp)
{
	struct sgdma_buf *buf = sgdma_buf_lookup(sf, handle);
	u64 end;

	if (IS_ERR(buf))
		return PTR_ERR(buf);
	if (check_add_overflow(off, len, &end) || end > buf->len ||
	    (dst && buf->readonly))
		return -EINVAL;
	*bufp = buf;
	return 0;
}

/**
 * sgdma_bufreq_get() - resolve the handles of a checked request
 * @sf: the file
 * @r: the request, checked by sgdma_buf_xfer_check()
 * @src_handle: source handle, 0 without one
 * @dst_handle: destination handle, 0 without one
 *
 * Takes a reference and a busy count on each buffer, so that it can be
 * neither freed nor released until sgdma_bufreq_put().
 *
 * Return: 0, -ENOENT, -EACCES, -EINVAL (range outside the buffer, or a
 * read-only destination) or -ENODEV.
 */
int sgdma_bufreq_get(struct sgdma_file *sf, struct sgdma_bufreq *r,
		     u32 src_handle, u32 dst_handle)
{
	struct sgdma_buf *src = NULL, *dst = NULL;
	int ret = 0;

	mutex_lock(&sf->lock);
	if (src_handle)
		ret = sgdma_bufreq_take(sf, src_handle, r->src_off, r->len,
					false, &src);
	if (!ret && dst_handle)
		ret = sgdma_bufreq_take(sf, dst_handle, r->dst_off, r->len,
					true, &dst);
	if (!ret) {
		if (src) {
			kref_get(&src->ref);
			atomic_inc(&src->busy);
		}
		if (dst) {
			kref_get(&dst->ref);
			atomic_inc(&dst->busy);
		}
		r->src = src;
		r->dst = dst;
	}
	mutex_unlock(&sf->lock);
	return ret;
}

/**
 * sgdma_bufreq_put() - release what sgdma_bufreq_get() took
 * @r: the request; the device no longer uses its buffers
 */
void sgdma_bufreq_put(struct sgdma_bufreq *r)
{
	if (r->src) {
		atomic_dec(&r->src->busy);
		sgdma_buf_put(r->src);
		r->src = NULL;
	}
	if (r->dst) {
		atomic_dec(&r->dst->busy);
		sgdma_buf_put(r->dst);
		r->dst = NULL;
	}
}

/* Index of the run holding byte @off (which is inside the buffer). */
static unsigned int sgdma_buf_seg_find(const struct sgdma_buf *buf, u64 off)
{
	unsigned int lo = 0, hi = buf->nsegs;

	while (hi - lo > 1) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (buf->segs[mid].off <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/**
 * sgdma_buf_sync() - sync bytes of a buffer for the device or for the CPU
 * @buf: the buffer
 * @off: first byte
 * @len: bytes
 * @dir: the direction of the data
 * @for_cpu: for the CPU, else for the device
 *
 * Syncs bytes [@off, @off + @len) of a registered buffer: a partial sync
 * of each run (a single mapping of physically contiguous memory,
 * sgdma_buf_map()) the range covers, and of nothing else. Coherent buffers
 * need nothing.
 */
void sgdma_buf_sync(struct sgdma_buf *buf, u64 off, u64 len,
		    enum dma_data_direction dir, bool for_cpu)
{
	struct device *dev = sgdma_dma_dev(buf->sf->sdev);
	unsigned int i;

	if (buf->kind != SGDMA_BUF_USER || !len)
		return;
	for (i = sgdma_buf_seg_find(buf, off); len; i++) {
		const struct sgdma_buf_seg *s = &buf->segs[i];
		u64 in = off - s->off, n = min(s->len - in, len);

		if (for_cpu)
			dma_sync_single_range_for_cpu(dev, s->addr, in, n, dir);
		else
			dma_sync_single_range_for_device(dev, s->addr, in, n,
							 dir);
		off += n;
		len -= n;
	}
}

/**
 * sgdma_buf_side() - describe bytes of a buffer as a host side
 * @sdev: the device
 * @buf: the buffer
 * @off: first byte
 * @max: most bytes to describe
 * @side: the side
 * @l: the channel's list that holds its segments
 * @got: out: the bytes described, fewer than @max when @l filled up first
 *
 * Return: 0 or -EINVAL (a segment would break the device's alignment).
 */
int sgdma_buf_side(struct sgdma_dev *sdev, struct sgdma_buf *buf, u64 off,
		   u64 max, struct sgdma_side *side, struct sgdma_seglist *l,
		   u64 *got)
{
	unsigned int i;

	sgdma_seglist_reset(side, l);
	*got = 0;
	for (i = sgdma_buf_seg_find(buf, off); *got < max && i < buf->nsegs;
	     i++) {
		const struct sgdma_buf_seg *s = &buf->segs[i];
		u64 in = off + *got - s->off, added;
		int ret;

		ret = sgdma_side_add_upto(sdev, side, s->addr + in,
					  min(s->len - in, max - *got), &added);
		*got += added;
		if (ret == -E2BIG)
			break;
		if (ret)
			return ret;
	}
	return 0;
}

/**
 * sgdma_buf_set_leaked() - never release a buffer's memory and mappings
 * @buf: the buffer, which a channel that would not stop may still access
 */
void sgdma_buf_set_leaked(struct sgdma_buf *buf)
{
	buf->leaked = true;
}
