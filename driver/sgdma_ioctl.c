// SPDX-License-Identifier: GPL-2.0
/*
 * sgdma ioctls. Every argument is copied into kernel memory once and
 * validated there; nothing is read from user space twice. No user memory
 * is touched with the device held (sgdma_get_live()): a page fault that
 * does not complete would keep removal waiting. The device is taken for
 * what needs it, between the copies in and out.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/nospec.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "sgdma.h"

static_assert(sizeof(struct sgdma_info) == SGDMA_INFO_SIZE_VER2);
static_assert(sizeof(struct sgdma_buf_reg) == SGDMA_BUF_REG_SIZE_VER0);
static_assert(sizeof(struct sgdma_buf_alloc) == SGDMA_BUF_ALLOC_SIZE_VER0);
static_assert(sizeof(struct sgdma_buf_free) == SGDMA_BUF_FREE_SIZE_VER0);
static_assert(sizeof(struct sgdma_buf_xfer) == SGDMA_BUF_XFER_SIZE_VER0);
static_assert(sizeof(struct sgdma_xfer) == SGDMA_XFER_SIZE_VER0);
static_assert(sizeof(struct sgdma_iovec) == 16);

#define SGDMA_XFER_FLAGS	(SGDMA_XFER_CRC | SGDMA_XFER_COPY | \
				 SGDMA_XFER_PINNED | SGDMA_XFER_CHANNEL | \
				 SGDMA_XFER_POLL)

/**
 * sgdma_copy_struct_in() - copy an extensible structure in
 * @dst: kernel copy
 * @ksize: its size
 * @ver0: the smallest size ever published
 * @uarg: user address; its first __u32 is the size the caller claims
 * @usize: out: that size
 *
 * As clone3() and openat2() do, a size beyond a page is refused: no
 * structure will grow that far, and the kernel does not scan megabytes of
 * user memory for a non-zero byte.
 *
 * Return: 0, -EFAULT, -EINVAL (below @ver0) or -E2BIG (beyond a page, or
 * unknown non-zero tail).
 */
int sgdma_copy_struct_in(void *dst, size_t ksize, size_t ver0,
			 const void __user *uarg, u32 *usize)
{
	if (get_user(*usize, (const u32 __user *)uarg))
		return -EFAULT;
	if (*usize < ver0)
		return -EINVAL;
	if (*usize > PAGE_SIZE)
		return -E2BIG;
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

	ret = sgdma_get_live(sdev);
	if (ret)
		return ret;
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
	info.caps |= SGDMA_CAP_BUFS |
		     (sdev->card_map_size ? SGDMA_CAP_MMAP_CARD : 0);
	info.max_bufs = SGDMA_MAX_BUFS;
	info.max_queue_depth = SGDMA_QUEUE_MAX_DEPTH;
	info.max_buf_len = SGDMA_BUF_MAX_LEN;
	info.card_map_size = sdev->card_map_size;
	sgdma_put_live(sdev);

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

/* SGDMA_XFER_CHANNEL and its channel: *@chan is the channel or -1. */
static int sgdma_check_channel(struct sgdma_dev *sdev, u32 flags, u32 channel,
			       int *chan)
{
	if (flags & SGDMA_XFER_CHANNEL) {
		if (channel >= sdev->lim.channels)
			return -EINVAL;
		/* No speculative access to a channel past the array either. */
		*chan = array_index_nospec(channel, sdev->lim.channels);
	} else {
		if (channel)
			return -EINVAL;
		*chan = -1;
	}
	return 0;
}

static int sgdma_xfer_check(struct sgdma_dev *sdev, const struct sgdma_xfer *x,
			    struct sgdma_req *req)
{
	int ret;

	if (x->flags & ~SGDMA_XFER_FLAGS || x->__reserved)
		return -EINVAL;
	if ((x->flags & SGDMA_XFER_COPY) && (x->flags & SGDMA_XFER_PINNED))
		return -EINVAL;
	if ((x->flags & SGDMA_XFER_CRC) && !sdev->lim.crc)
		return -EINVAL;

	ret = sgdma_check_channel(sdev, x->flags, x->channel, &req->channel);
	if (ret)
		return ret;

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
 * sgdma_buf_xfer_check() - validate a transfer on buffers
 * @sdev: the device
 * @x: the caller's request, in kernel memory
 * @r: out: the request, without its buffers (sgdma_bufreq_get())
 *
 * Return: 0 or -EINVAL.
 */
int sgdma_buf_xfer_check(struct sgdma_dev *sdev,
			 const struct sgdma_buf_xfer *x,
			 struct sgdma_bufreq *r)
{
	const struct sgdma_limits *lim = &sdev->lim;
	u64 end;
	int ret;

	if (x->flags & ~(SGDMA_XFER_CRC | SGDMA_XFER_CHANNEL |
			 SGDMA_XFER_POLL) ||
	    x->__reserved || x->__pad)
		return -EINVAL;
	if ((x->flags & SGDMA_XFER_CRC) && !lim->crc)
		return -EINVAL;
	ret = sgdma_check_channel(sdev, x->flags, x->channel, &r->channel);
	if (ret)
		return ret;

	switch (x->op) {
	case SGDMA_OP_H2C:
		if (!x->src_handle || x->dst_handle || x->dst_offset)
			return -EINVAL;
		break;
	case SGDMA_OP_C2H:
		if (!x->dst_handle || x->src_handle || x->src_offset)
			return -EINVAL;
		break;
	case SGDMA_OP_H2H:
		if (!x->src_handle || !x->dst_handle || x->card_offset)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	/* The buffers are aligned: so are the segments of aligned ranges. */
	if (x->len > SGDMA_XFER_MAX_LEN ||
	    !IS_ALIGNED(x->src_offset | x->dst_offset | x->len,
			lim->seg_align))
		return -EINVAL;
	if (x->op != SGDMA_OP_H2H &&
	    (check_add_overflow(x->card_offset, x->len, &end) ||
	     end > lim->card_size))
		return -EINVAL;

	r->op = x->op;
	r->flags = x->flags;
	r->card_offset = x->card_offset;
	r->src_off = x->src_offset;
	r->dst_off = x->dst_offset;
	r->len = x->len;
	return 0;
}

static long sgdma_ioctl_buf_xfer(struct sgdma_file *sf, void __user *uarg)
{
	struct sgdma_bufreq r = { };
	struct sgdma_buf_xfer x;
	u32 usize;
	int ret;

	ret = sgdma_copy_struct_in(&x, sizeof(x), SGDMA_BUF_XFER_SIZE_VER0,
				   uarg, &usize);
	if (ret)
		return ret;
	ret = sgdma_buf_xfer_check(sf->sdev, &x, &r);
	if (ret)
		return ret;
	ret = sgdma_get_live(sf->sdev);
	if (ret)
		return ret;
	ret = sgdma_bufreq_get(sf, &r, x.src_handle, x.dst_handle);
	if (!ret) {
		ret = sgdma_bufreq_run(sf->sdev, &r);
		sgdma_bufreq_put(&r);
	}
	sgdma_put_live(sf->sdev);
	if (ret)
		return ret;

	x.bytes = r.len;
	x.crc = r.crc;
	if (copy_to_user(uarg, &x, min_t(u32, usize, sizeof(x))))
		return -EFAULT;
	return 0;
}

static long sgdma_ioctl_buf_register(struct sgdma_file *sf, void __user *uarg)
{
	struct sgdma_buf_reg br;
	u32 usize;
	int ret;

	ret = sgdma_copy_struct_in(&br, sizeof(br), SGDMA_BUF_REG_SIZE_VER0,
				   uarg, &usize);
	if (ret)
		return ret;
	if (br.handle || br.__pad)
		return -EINVAL;
	ret = sgdma_buf_register(sf, br.addr, br.len, br.flags, &br.handle);
	if (ret)
		return ret;
	if (put_user(br.handle, (u32 __user *)(uarg +
			offsetof(struct sgdma_buf_reg, handle)))) {
		sgdma_buf_free(sf, br.handle);
		return -EFAULT;
	}
	return 0;
}

static long sgdma_ioctl_buf_alloc(struct sgdma_file *sf, void __user *uarg)
{
	struct sgdma_buf_alloc ba;
	u32 usize;
	int ret;

	ret = sgdma_copy_struct_in(&ba, sizeof(ba), SGDMA_BUF_ALLOC_SIZE_VER0,
				   uarg, &usize);
	if (ret)
		return ret;
	if (ba.flags || ba.handle || ba.__pad || ba.mmap_offset)
		return -EINVAL;
	ret = sgdma_get_live(sf->sdev);
	if (ret)
		return ret;
	ret = sgdma_buf_alloc(sf, ba.len, &ba.handle);
	sgdma_put_live(sf->sdev);
	if (ret)
		return ret;
	ba.len = PAGE_ALIGN(ba.len);
	ba.mmap_offset = SGDMA_MMAP_BUF_OFFSET(ba.handle);
	if (copy_to_user(uarg, &ba, min_t(u32, usize, sizeof(ba)))) {
		sgdma_buf_free(sf, ba.handle);
		return -EFAULT;
	}
	return 0;
}

static long sgdma_ioctl_buf_free(struct sgdma_file *sf, void __user *uarg)
{
	struct sgdma_buf_free bf;
	u32 usize;
	int ret;

	ret = sgdma_copy_struct_in(&bf, sizeof(bf), SGDMA_BUF_FREE_SIZE_VER0,
				   uarg, &usize);
	if (ret)
		return ret;
	if (bf.flags || bf.__pad)
		return -EINVAL;
	return sgdma_buf_free(sf, bf.handle);
}

/* Whether @cmd is @ref with the size bits ignored. */
static bool sgdma_cmd_is(unsigned int cmd, unsigned int ref)
{
	return _IOC_NR(cmd) == _IOC_NR(ref) && _IOC_DIR(cmd) == _IOC_DIR(ref);
}

static long sgdma_ioctl_v3(struct sgdma_file *sf, unsigned int cmd,
			   void __user *uarg)
{
	if (sgdma_cmd_is(cmd, SGDMA_IOC_BUF_REGISTER))
		return sgdma_ioctl_buf_register(sf, uarg);
	if (sgdma_cmd_is(cmd, SGDMA_IOC_BUF_ALLOC))
		return sgdma_ioctl_buf_alloc(sf, uarg);
	if (sgdma_cmd_is(cmd, SGDMA_IOC_BUF_FREE))
		return sgdma_ioctl_buf_free(sf, uarg);
	if (sgdma_cmd_is(cmd, SGDMA_IOC_BUF_XFER))
		return sgdma_ioctl_buf_xfer(sf, uarg);
	if (sgdma_cmd_is(cmd, SGDMA_IOC_QUEUE_CREATE))
		return sgdma_ioctl_queue_create(sf, uarg);
	return -ENOTTY;
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
	struct sgdma_file *sf = file->private_data;
	struct sgdma_dev *sdev = sf->sdev;
	void __user *uarg = (void __user *)arg;
	long ret;

	/* The size bits of @cmd are ignored: sizes travel in the structures. */
	if (_IOC_TYPE(cmd) != SGDMA_IOC_MAGIC)
		return -ENOTTY;

	/* Once removal began, every call fails. */
	ret = sgdma_get_live(sdev);
	if (ret)
		return ret;
	sgdma_put_live(sdev);

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
		ret = sgdma_ioctl_v3(sf, cmd, uarg);
		break;
	}
	return ret;
}
