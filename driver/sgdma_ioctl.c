// SPDX-License-Identifier: GPL-2.0
/*
 * sgdma ioctls. Every argument is copied into kernel memory once and
 * validated there; nothing is read from user space twice.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/nospec.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "sgdma.h"

static_assert(sizeof(struct sgdma_info) == SGDMA_INFO_SIZE_VER1);
static_assert(sizeof(struct sgdma_xfer) == SGDMA_XFER_SIZE_VER0);
static_assert(sizeof(struct sgdma_iovec) == 16);

#define SGDMA_XFER_FLAGS	(SGDMA_XFER_CRC | SGDMA_XFER_COPY | \
				 SGDMA_XFER_PINNED | SGDMA_XFER_CHANNEL)

/*
 * Copy an extensible structure in: @usize is what the caller claims,
 * @ver0 the smallest size ever published.
 */
static int sgdma_copy_struct_in(void *dst, size_t ksize, size_t ver0,
				const void __user *uarg, u32 *usize)
{
	if (get_user(*usize, (const u32 __user *)uarg))
		return -EFAULT;
	if (*usize < ver0)
		return -EINVAL;
	return copy_struct_from_user(dst, ksize, uarg, *usize);
}

static long sgdma_ioctl_info(struct sgdma_dev *sdev, void __user *uarg)
{
	const struct sgdma_limits *lim = &sdev->lim;
	struct sgdma_info info;
	u32 usize;
	int ret;

	ret = sgdma_copy_struct_in(&info, sizeof(info), SGDMA_INFO_SIZE_VER0,
				   uarg, &usize);
	if (ret)
		return ret;
	if (info.flags)
		return -EINVAL;

	memset(&info, 0, sizeof(info));
	info.size = min_t(u32, usize, sizeof(info));
	info.abi_version = SGDMA_ABI_VERSION;
	info.hw_id = sgdma_read(sdev, SGDMA_REG_ID);
	info.hw_version = sdev->hw_version;
	info.pci_vendor = sdev->pdev->vendor;
	info.pci_device = sdev->pdev->device;
	info.pci_revision = sdev->pdev->revision;
	info.minor = sdev->minor;

	info.channels = lim->channels;
	info.dma_bits = lim->dma_bits;
	info.card_size = lim->card_size;
	info.seg_boundary = lim->seg_boundary;
	info.max_seg_size = lim->max_seg_size;
	info.max_segments = lim->max_segments;
	info.seg_align = lim->seg_align;
	info.max_desc_len = lim->max_desc_len;
	info.ops = BIT(SGDMA_OP_H2C) | BIT(SGDMA_OP_C2H) | BIT(SGDMA_OP_H2H);
	info.caps = (lim->crc ? SGDMA_CAP_CRC32C : 0) |
		    (lim->pin_pages ? SGDMA_CAP_PINNED : 0) |
		    (lim->fault_inject ? SGDMA_CAP_FAULT_INJECT : 0);
	info.max_iovecs = SGDMA_XFER_MAX_IOVECS;
	info.copy_threshold = READ_ONCE(sgdma_copy_threshold);
	info.max_xfer_len = SGDMA_XFER_MAX_LEN;
	info.copy_chunk = lim->copy_chunk;
	info.pin_chunk = lim->pin_pages * PAGE_SIZE;
	info.irq_mode = sdev->irq_mode;

	if (copy_to_user(uarg, &info, info.size))
		return -EFAULT;
	return 0;
}

/*
 * Snapshot one side's iovec array into kernel memory, as struct iovec, and
 * add up its length. The caller kvfree()s *@kiov.
 */
static int sgdma_import_iovs(u64 uptr, u32 cnt, struct iovec **kiov,
			     u64 *total)
{
	struct sgdma_iovec *uv;
	struct iovec *v;
	u64 sum = 0, end;
	unsigned int i;
	int ret = 0;

	*kiov = NULL;
	*total = 0;
	if (!cnt || cnt > SGDMA_XFER_MAX_IOVECS)
		return -EINVAL;

	uv = kvmalloc_array(cnt, sizeof(*uv), GFP_KERNEL);
	v = kvmalloc_array(cnt, sizeof(*v), GFP_KERNEL);
	if (!uv || !v) {
		ret = -ENOMEM;
		goto out;
	}
	if (copy_from_user(uv, u64_to_user_ptr(uptr), cnt * sizeof(*uv))) {
		ret = -EFAULT;
		goto out;
	}

	for (i = 0; i < cnt; i++) {
		if (check_add_overflow(sum, uv[i].len, &sum) ||
		    sum > SGDMA_XFER_MAX_LEN ||
		    check_add_overflow(uv[i].base, uv[i].len, &end)) {
			ret = -EINVAL;
			goto out;
		}
		if (!access_ok(u64_to_user_ptr(uv[i].base), uv[i].len)) {
			ret = -EFAULT;
			goto out;
		}
		v[i].iov_base = u64_to_user_ptr(uv[i].base);
		v[i].iov_len = uv[i].len;
	}
	*kiov = v;
	*total = sum;
	v = NULL;
out:
	kvfree(v);
	kvfree(uv);
	return ret;
}

static int sgdma_xfer_check(struct sgdma_dev *sdev, const struct sgdma_xfer *x,
			    struct sgdma_req *req)
{
	if (x->flags & ~SGDMA_XFER_FLAGS || x->__reserved)
		return -EINVAL;
	if ((x->flags & SGDMA_XFER_COPY) && (x->flags & SGDMA_XFER_PINNED))
		return -EINVAL;
	if ((x->flags & SGDMA_XFER_CRC) && !sdev->lim.crc)
		return -EINVAL;

	if (x->flags & SGDMA_XFER_CHANNEL) {
		if (x->channel >= sdev->lim.channels)
			return -EINVAL;
		/* No speculative access to a channel past the array either. */
		req->channel = array_index_nospec(x->channel,
						  sdev->lim.channels);
	} else {
		if (x->channel)
			return -EINVAL;
		req->channel = -1;
	}

	switch (x->op) {
	case SGDMA_OP_H2C:
		if (x->dst_iov || x->dst_iovcnt)
			return -EINVAL;
		break;
	case SGDMA_OP_C2H:
		if (x->src_iov || x->src_iovcnt)
			return -EINVAL;
		break;
	case SGDMA_OP_H2H:
		if (x->card_offset)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	req->op = x->op;
	req->flags = x->flags;
	req->card_offset = x->card_offset;
	return 0;
}

static long sgdma_ioctl_xfer(struct sgdma_dev *sdev, void __user *uarg)
{
	struct iovec *src = NULL, *dst = NULL;
	struct sgdma_req req = { };
	struct sgdma_xfer x;
	u64 slen = 0, dlen = 0, end;
	u32 usize;
	int ret;

	ret = sgdma_copy_struct_in(&x, sizeof(x), SGDMA_XFER_SIZE_VER0, uarg,
				   &usize);
	if (ret)
		return ret;
	ret = sgdma_xfer_check(sdev, &x, &req);
	if (ret)
		return ret;

	if (x.op != SGDMA_OP_C2H) {
		ret = sgdma_import_iovs(x.src_iov, x.src_iovcnt, &src, &slen);
		if (ret)
			goto out;
	}
	if (x.op != SGDMA_OP_H2C) {
		ret = sgdma_import_iovs(x.dst_iov, x.dst_iovcnt, &dst, &dlen);
		if (ret)
			goto out;
	}

	ret = -EINVAL;
	switch (x.op) {
	case SGDMA_OP_H2C:
		req.len = slen;
		break;
	case SGDMA_OP_C2H:
		req.len = dlen;
		break;
	default:
		if (slen != dlen)
			goto out;
		req.len = slen;
		break;
	}
	if (x.op != SGDMA_OP_H2H &&
	    (check_add_overflow(x.card_offset, req.len, &end) ||
	     end > sdev->lim.card_size))
		goto out;

	req.src = src;
	req.nr_src = src ? x.src_iovcnt : 0;
	req.dst = dst;
	req.nr_dst = dst ? x.dst_iovcnt : 0;
	ret = sgdma_xfer(sdev, &req);
	if (ret)
		goto out;

	x.bytes = req.len;
	x.crc = req.crc;
	x.path = req.path;
	if (copy_to_user(uarg, &x, min_t(u32, usize, sizeof(x))))
		ret = -EFAULT;
out:
	kvfree(src);
	kvfree(dst);
	return ret;
}

/**
 * sgdma_ioctl() - the ioctls of /dev/sgdmaN (see uapi/sgdma.h)
 * @file: the open node
 * @cmd: SGDMA_IOC_*
 * @arg: user address of the command's structure
 *
 * Return: 0 or a negative errno.
 */
long sgdma_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct sgdma_dev *sdev = file->private_data;
	void __user *uarg = (void __user *)arg;
	long ret;

	/* The size bits of @cmd are ignored: sizes travel in the structures. */
	if (_IOC_TYPE(cmd) != SGDMA_IOC_MAGIC)
		return -ENOTTY;

	ret = sgdma_get_live(sdev);
	if (ret)
		return ret;

	switch (_IOC_NR(cmd)) {
	case _IOC_NR(SGDMA_IOC_INFO):
		ret = _IOC_DIR(cmd) == _IOC_DIR(SGDMA_IOC_INFO) ?
		      sgdma_ioctl_info(sdev, uarg) : -ENOTTY;
		break;
	case _IOC_NR(SGDMA_IOC_XFER):
		ret = _IOC_DIR(cmd) == _IOC_DIR(SGDMA_IOC_XFER) ?
		      sgdma_ioctl_xfer(sdev, uarg) : -ENOTTY;
		break;
	default:
		ret = -ENOTTY;
		break;
	}

	sgdma_put_live(sdev);
	return ret;
}
