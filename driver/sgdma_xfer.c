// SPDX-License-Identifier: GPL-2.0
/*
 * sgdma transfers: moving user data through a channel. This file chooses
 * a transfer's path and takes the device and a channel for either: the
 * copy path through the channel's bounce buffer (sgdma_copy.c) or the
 * pinned path over the user pages themselves (sgdma_pin.c).
 *
 * Both map with explicit ownership transfers: dma_sync_*_for_device()
 * before the device reads or writes a buffer, dma_sync_*_for_cpu() after
 * it wrote one, and no implicit syncs in map/unmap of pinned pages. The
 * swiotlb=force boot of the test matrix fails if any of them is missing.
 *
 * The device needs host segments aligned to SEG_ALIGN. Pinned buffers must
 * be aligned themselves; automatic mode uses the copy path when they are
 * not, and for memory GUP cannot pin (VM_IO, VM_PFNMAP).
 *
 * Locking. User memory is never faulted in, copied or pinned while the
 * device (@sdev->lock) or a channel is held: a fault may take for ever (a
 * userfaultfd whose handler does not answer, a file system that hangs),
 * and removal and every other user of the channel would wait for it. How
 * each path keeps to that: sgdma_copy.c, sgdma_pin.c.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/uio.h>

#include "sgdma.h"
#include "sgdma_xfer.h"

/*
 * Take the device and a channel (@index, or -1 for any) for one
 * descriptor's worth of work: ERR_PTR(-ENODEV) once removal began.
 */
struct sgdma_chan *sgdma_hold(struct sgdma_dev *sdev, int index)
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

void sgdma_unhold(struct sgdma_chan *chan)
{
	struct sgdma_dev *sdev = chan->sdev;

	sgdma_chan_put(chan);
	sgdma_put_live(sdev);
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
