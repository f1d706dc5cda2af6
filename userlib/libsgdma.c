// SPDX-License-Identifier: LGPL-2.1-or-later
#define _GNU_SOURCE
#include "libsgdma.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifndef LIBSGDMA_VERSION
#define LIBSGDMA_VERSION "unknown"
#endif

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

/* An ioctl on the device node; 0 or -errno. */
static int dev_ioctl(struct sgdma_dev *dev, unsigned long req, void *arg)
{
	return ioctl(dev->fd, req, arg) < 0 ? -errno : 0;
}

int sgdma_fd(const struct sgdma_dev *dev)
{
	return dev->fd;
}

int sgdma_get_info(struct sgdma_dev *dev, struct sgdma_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return dev_ioctl(dev, SGDMA_IOC_INFO, info);
}

int sgdma_xfer(struct sgdma_dev *dev, struct sgdma_xfer *x)
{
	x->size = sizeof(*x);
	return dev_ioctl(dev, SGDMA_IOC_XFER, x);
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

/*
 * struct iovec is struct sgdma_iovec on 64-bit ABIs; elsewhere the array is
 * converted into @tmp (or a heap copy, returned in *@heap, if larger).
 */
#define IOV_STACK 16

static const struct sgdma_iovec *iov_abi(const struct iovec *iov,
					 unsigned int cnt,
					 struct sgdma_iovec *tmp,
					 struct sgdma_iovec **heap)
{
	struct sgdma_iovec *v = tmp;

	*heap = NULL;
	if (!iov || !cnt)
		return NULL;
	if (sizeof(struct iovec) == sizeof(struct sgdma_iovec) &&
	    offsetof(struct iovec, iov_len) == offsetof(struct sgdma_iovec, len) &&
	    sizeof(void *) == sizeof(uint64_t))
		return (const struct sgdma_iovec *)(const void *)iov;
	if (cnt > SGDMA_XFER_MAX_IOVECS)
		cnt = SGDMA_XFER_MAX_IOVECS + 1;	/* the kernel refuses it */
	if (cnt > IOV_STACK) {
		v = calloc(cnt, sizeof(*v));
		if (!v)
			return NULL;
		*heap = v;
	}
	for (unsigned int i = 0; i < cnt; i++) {
		v[i].base = (uintptr_t)iov[i].iov_base;
		v[i].len = iov[i].iov_len;
	}
	return v;
}

static int xfer_vec(struct sgdma_dev *dev, uint16_t op, uint64_t off,
		    const struct iovec *src, unsigned int srccnt,
		    const struct iovec *dst, unsigned int dstcnt,
		    uint32_t flags, uint32_t *crc)
{
	struct sgdma_iovec stmp[IOV_STACK], dtmp[IOV_STACK], *sheap, *dheap;
	const struct sgdma_iovec *s = iov_abi(src, srccnt, stmp, &sheap);
	const struct sgdma_iovec *d = iov_abi(dst, dstcnt, dtmp, &dheap);
	struct sgdma_xfer x = {
		.flags = flags,
		.op = op,
		.card_offset = off,
		.src_iov = (uintptr_t)s,
		.src_iovcnt = s ? srccnt : 0,
		.dst_iov = (uintptr_t)d,
		.dst_iovcnt = d ? dstcnt : 0,
	};
	int ret;

	if ((srccnt && src && !s) || (dstcnt && dst && !d)) {
		ret = -ENOMEM;
	} else {
		ret = sgdma_xfer(dev, &x);
		if (!ret && crc)
			*crc = x.crc;
	}
	free(sheap);
	free(dheap);
	return ret;
}

int sgdma_writev_card(struct sgdma_dev *dev, uint64_t off,
		      const struct iovec *iov, unsigned int iovcnt,
		      uint32_t flags, uint32_t *crc)
{
	return xfer_vec(dev, SGDMA_OP_H2C, off, iov, iovcnt, NULL, 0, flags,
			crc);
}

int sgdma_readv_card(struct sgdma_dev *dev, uint64_t off,
		     const struct iovec *iov, unsigned int iovcnt,
		     uint32_t flags, uint32_t *crc)
{
	return xfer_vec(dev, SGDMA_OP_C2H, off, NULL, 0, iov, iovcnt, flags,
			crc);
}

int sgdma_copyv(struct sgdma_dev *dev,
		const struct iovec *dst, unsigned int dstcnt,
		const struct iovec *src, unsigned int srccnt,
		uint32_t flags, uint32_t *crc)
{
	return xfer_vec(dev, SGDMA_OP_H2H, 0, src, srccnt, dst, dstcnt, flags,
			crc);
}

ssize_t sgdma_pread(struct sgdma_dev *dev, void *buf, size_t len,
		    uint64_t off)
{
	size_t done = 0;

	if (off > INT64_MAX)
		return -EINVAL;
	while (done < len) {
		ssize_t n = pread(dev->fd, (char *)buf + done, len - done,
				  (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return done ? (ssize_t)done : -errno;
		if (!n)
			break;
		done += n;
	}
	return done;
}

ssize_t sgdma_pwrite(struct sgdma_dev *dev, const void *buf, size_t len,
		     uint64_t off)
{
	size_t done = 0;

	if (off > INT64_MAX)
		return -EINVAL;
	while (done < len) {
		ssize_t n = pwrite(dev->fd, (const char *)buf + done,
				   len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return done ? (ssize_t)done : -errno;
		if (!n)
			break;
		done += n;
	}
	return done;
}

/*
 * The queue: @depth worker threads take requests from a FIFO, run each with
 * the synchronous XFER and append its completion; an eventfd counts
 * completions waiting. One mutex guards everything; workers wait on
 * @work_cv, reapers on @done_cv.
 */
struct sgdma_queue_req {
	struct sgdma_xfer x;
	uint64_t user_data;
};

struct sgdma_queue {
	struct sgdma_dev *dev;
	unsigned int depth;
	int efd;
	pthread_mutex_t lock;
	pthread_cond_t work_cv;
	pthread_cond_t done_cv;
	/* Submitted, not yet taken by a worker: a ring of @depth. */
	struct sgdma_queue_req *sq;
	unsigned int sq_head, sq_count;
	/* Completed, not yet reaped: a ring of @depth. */
	struct sgdma_cqe *cq;
	unsigned int cq_head, cq_count;
	/* Submitted and not yet reaped, at most @depth. */
	unsigned int pending;
	bool stop;
	unsigned int nthreads;
	pthread_t *threads;
};

static void *queue_worker(void *arg)
{
	struct sgdma_queue *q = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		struct sgdma_queue_req r;
		struct sgdma_cqe *c;
		int ret;

		while (!q->sq_count && !q->stop)
			pthread_cond_wait(&q->work_cv, &q->lock);
		if (!q->sq_count)
			break;
		r = q->sq[q->sq_head];
		q->sq_head = (q->sq_head + 1) % q->depth;
		q->sq_count--;
		pthread_mutex_unlock(&q->lock);

		ret = sgdma_xfer(q->dev, &r.x);

		pthread_mutex_lock(&q->lock);
		c = &q->cq[(q->cq_head + q->cq_count) % q->depth];
		q->cq_count++;
		*c = (struct sgdma_cqe){
			.user_data = r.user_data,
			.res = ret,
			.crc = ret ? 0 : r.x.crc,
			.bytes = ret ? 0 : r.x.bytes,
			.path = ret ? SGDMA_PATH_NONE : r.x.path,
		};
		pthread_cond_broadcast(&q->done_cv);
		/* Cannot fail short of overflow (2^64 completions). */
		if (write(q->efd, &one, sizeof(one)) < 0)
			abort();
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

static void queue_stop(struct sgdma_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->stop = true;
	pthread_cond_broadcast(&q->work_cv);
	pthread_mutex_unlock(&q->lock);
	for (unsigned int i = 0; i < q->nthreads; i++)
		pthread_join(q->threads[i], NULL);
}

void sgdma_queue_destroy(struct sgdma_queue *q)
{
	if (!q)
		return;
	queue_stop(q);
	pthread_cond_destroy(&q->done_cv);
	pthread_cond_destroy(&q->work_cv);
	pthread_mutex_destroy(&q->lock);
	if (q->efd >= 0)
		close(q->efd);
	free(q->threads);
	free(q->cq);
	free(q->sq);
	free(q);
}

static int queue_init_sync(struct sgdma_queue *q)
{
	pthread_condattr_t ca;
	int ret;

	ret = pthread_condattr_init(&ca);
	if (ret)
		return -ret;
	ret = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (!ret)
		ret = pthread_cond_init(&q->done_cv, &ca);
	pthread_condattr_destroy(&ca);
	if (ret)
		return -ret;
	pthread_cond_init(&q->work_cv, NULL);
	pthread_mutex_init(&q->lock, NULL);
	return 0;
}

int sgdma_queue_create(struct sgdma_dev *dev, unsigned int depth,
		       unsigned int flags, struct sgdma_queue **qp)
{
	struct sgdma_queue *q;
	int ret;

	if (!depth || depth > 256 || flags)
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->dev = dev;
	q->depth = depth;
	q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->efd < 0) {
		ret = -errno;
		free(q);
		return ret;
	}
	q->sq = calloc(depth, sizeof(*q->sq));
	q->cq = calloc(depth, sizeof(*q->cq));
	q->threads = calloc(depth, sizeof(*q->threads));
	ret = queue_init_sync(q);
	if (ret) {
		close(q->efd);
		free(q->threads);
		free(q->cq);
		free(q->sq);
		free(q);
		return ret;
	}
	if (!q->sq || !q->cq || !q->threads) {
		sgdma_queue_destroy(q);
		return -ENOMEM;
	}
	for (; q->nthreads < depth; q->nthreads++) {
		ret = pthread_create(&q->threads[q->nthreads], NULL,
				     queue_worker, q);
		if (ret) {
			sgdma_queue_destroy(q);
			return -ret;
		}
	}
	*qp = q;
	return 0;
}

int sgdma_queue_submit(struct sgdma_queue *q, const struct sgdma_xfer *x,
		       uint64_t user_data)
{
	struct sgdma_queue_req *r;

	pthread_mutex_lock(&q->lock);
	if (q->pending == q->depth) {
		pthread_mutex_unlock(&q->lock);
		return -EBUSY;
	}
	r = &q->sq[(q->sq_head + q->sq_count) % q->depth];
	r->x = *x;
	r->user_data = user_data;
	q->sq_count++;
	q->pending++;
	pthread_cond_signal(&q->work_cv);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

static void deadline_after(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

int sgdma_queue_reap(struct sgdma_queue *q, struct sgdma_cqe *cqes,
		     unsigned int max, unsigned int min, int timeout_ms)
{
	struct timespec deadline;
	unsigned int n = 0;
	uint64_t count;

	if (min > max)
		min = max;
	if (timeout_ms > 0)
		deadline_after(&deadline, timeout_ms);
	pthread_mutex_lock(&q->lock);
	if (min > q->pending) {
		pthread_mutex_unlock(&q->lock);
		return -EINVAL;
	}
	while (q->cq_count < min && timeout_ms) {
		if (timeout_ms < 0) {
			pthread_cond_wait(&q->done_cv, &q->lock);
		} else if (pthread_cond_timedwait(&q->done_cv, &q->lock,
						  &deadline) == ETIMEDOUT) {
			break;
		}
	}
	while (n < max && q->cq_count) {
		cqes[n++] = q->cq[q->cq_head];
		q->cq_head = (q->cq_head + 1) % q->depth;
		q->cq_count--;
		q->pending--;
	}
	/* Nothing left to announce: consume the eventfd's count. */
	if (!q->cq_count && read(q->efd, &count, sizeof(count)) < 0 &&
	    errno != EAGAIN) {
		pthread_mutex_unlock(&q->lock);
		return -errno;
	}
	pthread_mutex_unlock(&q->lock);
	return n;
}

int sgdma_queue_fd(const struct sgdma_queue *q)
{
	return q->efd;
}

unsigned int sgdma_queue_pending(struct sgdma_queue *q)
{
	unsigned int n;

	pthread_mutex_lock(&q->lock);
	n = q->pending;
	pthread_mutex_unlock(&q->lock);
	return n;
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
	case 0:
		return "success";
	case -ENOENT:
		return "no such sgdma device node (is the sgdma module loaded?)";
	case -ENXIO:
	case -ENODEV:
		return "the sgdma device is gone (removed or unbound)";
	case -EACCES:
	case -EPERM:
		return "permission denied (the device node is root's unless udev rules say otherwise)";
	case -ENOTTY:
		return "not an sgdma device, or the driver lacks this request";
	case -EOPNOTSUPP:
		return "the driver or device does not support this";
	case -EINVAL:
		return "invalid request (an argument is out of range or malformed)";
	case -E2BIG:
		return "the request has fields this driver does not know (driver older than the library)";
	case -ENOSPC:
		return "outside card memory";
	case -EFAULT:
		return "bad buffer address";
	case -ETIMEDOUT:
		return "the device did not complete the transfer in time";
	case -EIO:
		return "the device reported an error (see the kernel log)";
	case -EBUSY:
		return "busy (queue full, or the resource is in use)";
	default:
		return err < 0 ? strerror(-err) : "not an error code";
	}
}

const char *sgdma_version(void)
{
	return LIBSGDMA_VERSION;
}

int sgdma_mem_alloc(size_t len, void **addr)
{
	size_t align = len >= SGDMA_MEM_HUGE_ALIGN ? SGDMA_MEM_HUGE_ALIGN : 0;
	size_t maplen = len + align;
	uintptr_t start, head;
	void *p;

	if (!len || maplen < len)
		return -EINVAL;
	p = mmap(NULL, maplen, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	if (align) {
		/* Keep the aligned middle; give back what is around it. */
		start = ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
		head = start - (uintptr_t)p;
		if (head)
			munmap(p, head);
		munmap((void *)(start + len), align - head);
		p = (void *)start;
		/* Only advice: where THP is off it changes nothing. */
		madvise(p, len, MADV_HUGEPAGE);
	}
	*addr = p;
	return 0;
}

void sgdma_mem_free(void *addr, size_t len)
{
	if (addr && len)
		munmap(addr, len);
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

	return dev_ioctl(dev, SGDMA_IOC_BUF_FREE, &bf);
}

int sgdma_buf_xfer(struct sgdma_dev *dev, struct sgdma_buf_xfer *x)
{
	x->size = sizeof(*x);
	return dev_ioctl(dev, SGDMA_IOC_BUF_XFER, x);
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

int sgdma_bufq_create(struct sgdma_dev *dev, uint32_t depth, uint32_t flags,
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

int sgdma_bufq_submit(int qfd, struct sgdma_buf_xfer *x)
{
	x->size = sizeof(*x);
	if (ioctl(qfd, SGDMA_IOC_QUEUE_SUBMIT, x) < 0)
		return -errno;
	return 0;
}

int sgdma_bufq_submit_batch(int qfd, struct sgdma_buf_xfer *x, unsigned int n)
{
	struct sgdma_queue_batch b = {
		.size = sizeof(b),
		.entries = (uintptr_t)x,
		.count = n,
		.stride = sizeof(*x),
	};
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++)
		x[i].size = sizeof(*x);
	ret = ioctl(qfd, SGDMA_IOC_QUEUE_SUBMIT_BATCH, &b);
	if (ret >= 0 || errno != ENOTTY)
		return ret < 0 ? -errno : ret;
	/* A driver before ABI 4: one at a time. */
	for (i = 0; i < n; i++) {
		ret = sgdma_bufq_submit(qfd, &x[i]);
		if (ret)
			return i ? (int)i : ret;
	}
	return (int)n;
}

int sgdma_bufq_reap(int qfd, struct sgdma_completion *c, unsigned int max,
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
