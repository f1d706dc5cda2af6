// SPDX-License-Identifier: LGPL-2.1-or-later
#define _GNU_SOURCE
#include "libsgdma.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

struct sgdma_dev {
	int fd;
};

int sgdma_open(const char *path, struct sgdma_dev **devp)
{
	struct sgdma_dev *dev;

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev->fd < 0) {
		int err = -errno;

		free(dev);
		return err;
	}
	*devp = dev;
	return 0;
}

int sgdma_open_index(unsigned int index, struct sgdma_dev **devp)
{
	char path[32];

	snprintf(path, sizeof(path), "/dev/sgdma%u", index);
	return sgdma_open(path, devp);
}

void sgdma_close(struct sgdma_dev *dev)
{
	if (!dev)
		return;
	close(dev->fd);
	free(dev);
}

int sgdma_fd(const struct sgdma_dev *dev)
{
	return dev->fd;
}

int sgdma_get_info(struct sgdma_dev *dev, struct sgdma_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	if (ioctl(dev->fd, SGDMA_IOC_INFO, info) < 0)
		return -errno;
	return 0;
}

int sgdma_xfer(struct sgdma_dev *dev, struct sgdma_xfer *x)
{
	x->size = sizeof(*x);
	if (ioctl(dev->fd, SGDMA_IOC_XFER, x) < 0)
		return -errno;
	return 0;
}

static int xfer_one(struct sgdma_dev *dev, uint16_t op, uint64_t off,
		    const struct sgdma_iovec *src, const struct sgdma_iovec *dst,
		    uint32_t flags, uint32_t *crc)
{
	struct sgdma_xfer x = {
		.flags = flags,
		.op = op,
		.card_offset = off,
		.src_iov = (uintptr_t)src,
		.src_iovcnt = src ? 1 : 0,
		.dst_iov = (uintptr_t)dst,
		.dst_iovcnt = dst ? 1 : 0,
	};
	int ret = sgdma_xfer(dev, &x);

	if (!ret && crc)
		*crc = x.crc;
	return ret;
}

int sgdma_write_card(struct sgdma_dev *dev, uint64_t off, const void *buf,
		     size_t len, uint32_t flags, uint32_t *crc)
{
	struct sgdma_iovec v = { (uintptr_t)buf, len };

	return xfer_one(dev, SGDMA_OP_H2C, off, &v, NULL, flags, crc);
}

int sgdma_read_card(struct sgdma_dev *dev, uint64_t off, void *buf,
		    size_t len, uint32_t flags, uint32_t *crc)
{
	struct sgdma_iovec v = { (uintptr_t)buf, len };

	return xfer_one(dev, SGDMA_OP_C2H, off, NULL, &v, flags, crc);
}

int sgdma_copy(struct sgdma_dev *dev, void *dst, const void *src, size_t len,
	       uint32_t flags, uint32_t *crc)
{
	struct sgdma_iovec s = { (uintptr_t)src, len };
	struct sgdma_iovec d = { (uintptr_t)dst, len };

	return xfer_one(dev, SGDMA_OP_H2H, 0, &s, &d, flags, crc);
}

/* Slicing by 8: fast enough to check 64 MiB under TCG. */
static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (unsigned int i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c >> 1 ^ (c & 1 ? 0x82f63b78 : 0);
		crc_table[0][i] = c;
	}
	for (unsigned int i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc_table[t][i] = crc_table[t - 1][i] >> 8 ^
					  crc_table[0][crc_table[t - 1][i] & 0xff];
}

uint32_t sgdma_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	pthread_once(&crc_once, crc_init);
	crc = ~crc;
	while (len && ((uintptr_t)p & 7)) {
		crc = crc >> 8 ^ crc_table[0][(crc ^ *p++) & 0xff];
		len--;
	}
	while (len >= 8) {
		uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
				     (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 |
			      (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;

		crc = crc_table[7][lo & 0xff] ^ crc_table[6][lo >> 8 & 0xff] ^
		      crc_table[5][lo >> 16 & 0xff] ^ crc_table[4][lo >> 24] ^
		      crc_table[3][hi & 0xff] ^ crc_table[2][hi >> 8 & 0xff] ^
		      crc_table[1][hi >> 16 & 0xff] ^ crc_table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = crc >> 8 ^ crc_table[0][(crc ^ *p++) & 0xff];
	return ~crc;
}

const char *sgdma_strerror(int err)
{
	switch (err) {
	case -ENOENT:
		return "no such sgdma device node (is the sgdma module loaded?)";
	case -ENODEV:
		return "the sgdma device is gone (removed or unbound)";
	case -ENOTTY:
		return "not an sgdma device, or the driver lacks this request";
	case -ETIMEDOUT:
		return "the device did not complete the transfer in time";
	case -EIO:
		return "the device reported an error (see the kernel log)";
	default:
		return strerror(-err);
	}
}

/* ---- Buffers, mmap and asynchronous queues (ABI 3) ---- */

int sgdma_buf_register(struct sgdma_dev *dev, void *addr, size_t len,
		       uint32_t flags, uint32_t *handle)
{
	struct sgdma_buf_reg br = {
		.size = sizeof(br),
		.flags = flags,
		.addr = (uintptr_t)addr,
		.len = len,
	};

	if (ioctl(dev->fd, SGDMA_IOC_BUF_REGISTER, &br) < 0)
		return -errno;
	*handle = br.handle;
	return 0;
}

int sgdma_buf_alloc(struct sgdma_dev *dev, size_t len, uint32_t *handle,
		    uint64_t *mmap_offset)
{
	struct sgdma_buf_alloc ba = { .size = sizeof(ba), .len = len };

	if (ioctl(dev->fd, SGDMA_IOC_BUF_ALLOC, &ba) < 0)
		return -errno;
	*handle = ba.handle;
	if (mmap_offset)
		*mmap_offset = ba.mmap_offset;
	return 0;
}

int sgdma_buf_free(struct sgdma_dev *dev, uint32_t handle)
{
	struct sgdma_buf_free bf = { .size = sizeof(bf), .handle = handle };

	if (ioctl(dev->fd, SGDMA_IOC_BUF_FREE, &bf) < 0)
		return -errno;
	return 0;
}

int sgdma_buf_xfer(struct sgdma_dev *dev, struct sgdma_buf_xfer *x)
{
	x->size = sizeof(*x);
	if (ioctl(dev->fd, SGDMA_IOC_BUF_XFER, x) < 0)
		return -errno;
	return 0;
}

static int map_shared(int fd, uint64_t off, size_t len, void **addr)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       (off_t)off);

	if (p == MAP_FAILED)
		return -errno;
	*addr = p;
	return 0;
}

int sgdma_buf_mmap(struct sgdma_dev *dev, uint32_t handle, size_t len,
		   void **addr)
{
	return map_shared(dev->fd, SGDMA_MMAP_BUF_OFFSET(handle), len, addr);
}

int sgdma_card_mmap(struct sgdma_dev *dev, uint64_t off, size_t len,
		    void **addr)
{
	return map_shared(dev->fd, SGDMA_MMAP_CARD_OFFSET + off, len, addr);
}

int sgdma_queue_create(struct sgdma_dev *dev, uint32_t depth, uint32_t flags,
		       int eventfd)
{
	struct sgdma_queue_create qc = {
		.size = sizeof(qc),
		.flags = flags,
		.depth = depth,
		.eventfd = eventfd,
	};

	if (ioctl(dev->fd, SGDMA_IOC_QUEUE_CREATE, &qc) < 0)
		return -errno;
	return qc.fd;
}

int sgdma_queue_submit(int qfd, struct sgdma_buf_xfer *x)
{
	x->size = sizeof(*x);
	if (ioctl(qfd, SGDMA_IOC_QUEUE_SUBMIT, x) < 0)
		return -errno;
	return 0;
}

int sgdma_queue_reap(int qfd, struct sgdma_completion *c, unsigned int max,
		     uint32_t flags)
{
	struct sgdma_queue_reap rp = {
		.size = sizeof(rp),
		.flags = flags,
		.entries = (uintptr_t)c,
		.max = max,
	};

	if (ioctl(qfd, SGDMA_IOC_QUEUE_REAP, &rp) < 0)
		return -errno;
	return (int)rp.count;
}
