/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libsgdma: user-space access to sgdma devices.
 *
 * Conventions:
 *  - every call that can fail returns 0 (or a count) on success and a
 *    negative errno value on failure; sgdma_strerror() turns it into a
 *    message. errno itself is left as the system calls leave it;
 *  - there is no global state: calls on different handles never interfere;
 *  - each declaration states its thread safety. "Thread-safe" means the call
 *    may run concurrently with any other thread-safe call on the same
 *    handle; sgdma_close() and the *_destroy() calls never may;
 *  - buffers are the caller's; the library never keeps a pointer to one
 *    after a synchronous call returns. Asynchronous requests (struct
 *    sgdma_queue) use the caller's buffers and iovec arrays until their
 *    completion has been reaped, as io_uring does;
 *  - this header compiles as C (C99 and later) and as C++.
 *
 * Installed, this header lives next to the ABI header it includes, in
 * <includedir>/sgdma/; pkg-config --cflags libsgdma puts that directory on
 * the include path, so programs write #include <libsgdma.h>.
 */
#ifndef LIBSGDMA_H
#define LIBSGDMA_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "sgdma.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- devices ---- */

/* An open sgdma device node. */
struct sgdma_dev;

/*
 * Opens a device node by path, read-write. Errors are those of open(2):
 * -ENOENT no such node, -EACCES no permission, -ENODEV no device behind it.
 * Thread-safe.
 */
int sgdma_open(const char *path, struct sgdma_dev **devp);
/* Opens /dev/sgdma<index>, as sgdma_open(). Thread-safe. */
int sgdma_open_index(unsigned int index, struct sgdma_dev **devp);
/* Closes the handle; no call on it may be in progress or follow. */
void sgdma_close(struct sgdma_dev *dev);
/*
 * The file descriptor behind the handle, for raw ioctls and for read(2)
 * and write(2) on the node. Owned by the handle. Thread-safe.
 */
int sgdma_fd(const struct sgdma_dev *dev);
/*
 * Fills @info with the device's identity, capabilities and limits (as much
 * of struct sgdma_info as the driver knows; the rest is zero). Thread-safe.
 */
int sgdma_get_info(struct sgdma_dev *dev, struct sgdma_info *info);

/* ---- synchronous transfers ---- */

/*
 * SGDMA_IOC_XFER as is: sets @x->size, returns 0 or -errno and leaves the
 * kernel's answers (bytes, crc, path) in @x. Thread-safe.
 */
int sgdma_xfer(struct sgdma_dev *dev, struct sgdma_xfer *x);
/*
 * One buffer to card memory at @off, card memory to one buffer, and one
 * buffer to another through the device. @flags are SGDMA_XFER_*; with
 * SGDMA_XFER_CRC, *@crc receives the device's CRC32C (@crc may be NULL
 * otherwise). One call moves at most sgdma_info.max_xfer_len bytes
 * (SGDMA_XFER_MAX_LEN); -EINVAL beyond it, or outside card memory.
 * Thread-safe.
 */
int sgdma_write_card(struct sgdma_dev *dev, uint64_t off, const void *buf,
		     size_t len, uint32_t flags, uint32_t *crc);
int sgdma_read_card(struct sgdma_dev *dev, uint64_t off, void *buf,
		    size_t len, uint32_t flags, uint32_t *crc);
int sgdma_copy(struct sgdma_dev *dev, void *dst, const void *src, size_t len,
	       uint32_t flags, uint32_t *crc);
/*
 * Vectored forms of the above: up to sgdma_info.max_iovecs entries per side
 * (SGDMA_XFER_MAX_IOVECS), zero-length entries allowed. For sgdma_copyv()
 * both sides must add up to the same length. Thread-safe.
 */
int sgdma_writev_card(struct sgdma_dev *dev, uint64_t off,
		      const struct iovec *iov, unsigned int iovcnt,
		      uint32_t flags, uint32_t *crc);
int sgdma_readv_card(struct sgdma_dev *dev, uint64_t off,
		     const struct iovec *iov, unsigned int iovcnt,
		     uint32_t flags, uint32_t *crc);
int sgdma_copyv(struct sgdma_dev *dev,
		const struct iovec *dst, unsigned int dstcnt,
		const struct iovec *src, unsigned int srccnt,
		uint32_t flags, uint32_t *crc);
/*
 * Card memory through read(2)/write(2) on the node (the copy path), at
 * offset @off, retrying short transfers: returns the bytes moved, which is
 * less than @len only when card memory ends (reads), or -errno (-ENOSPC:
 * a write starts at or past the end). Thread-safe.
 */
ssize_t sgdma_pread(struct sgdma_dev *dev, void *buf, size_t len,
		    uint64_t off);
ssize_t sgdma_pwrite(struct sgdma_dev *dev, const void *buf, size_t len,
		     uint64_t off);

/* ---- asynchronous transfers ---- */

/*
 * A submission queue of up to @depth transfers in flight on one device,
 * with completions reaped in the order they finish, and a file descriptor
 * that becomes readable when completions are waiting, for poll(2)/epoll(7)
 * event loops. Shaped like io_uring: submit, then reap.
 *
 * With the current ABI (2) the kernel only offers synchronous transfers, so
 * a queue runs them on @depth worker threads of its own; a driver with
 * native asynchronous submission can back the same interface without a
 * change to callers. Requests on one queue may complete in any order.
 */
struct sgdma_queue;

/* One completed request. */
struct sgdma_cqe {
	uint64_t user_data;	/* as given to sgdma_queue_submit() */
	int32_t res;		/* 0 or -errno, as sgdma_xfer() */
	uint32_t crc;		/* with SGDMA_XFER_CRC, the device's CRC32C */
	uint64_t bytes;		/* bytes moved */
	uint32_t path;		/* SGDMA_PATH_* */
	uint32_t reserved;
};

/*
 * Creates a queue of @depth (1 to 256) slots on @dev; @flags must be 0.
 * The device handle must outlive the queue. Thread-safe.
 */
int sgdma_queue_create(struct sgdma_dev *dev, unsigned int depth,
		       unsigned int flags, struct sgdma_queue **qp);
/*
 * Waits for every submitted request to finish, then frees the queue;
 * completions not reaped are dropped. No other call on @q may be in
 * progress or follow.
 */
void sgdma_queue_destroy(struct sgdma_queue *q);
/*
 * Queues a copy of *@x (its iovec arrays and buffers are used in place
 * until the completion is reaped). -EBUSY when @depth requests are in
 * flight or waiting to be reaped. Thread-safe.
 */
int sgdma_queue_submit(struct sgdma_queue *q, const struct sgdma_xfer *x,
		       uint64_t user_data);
/*
 * Moves up to @max completions into @cqes, waiting until at least @min
 * (at most @max) are there or @timeout_ms passes (-1: no limit). Returns
 * the number moved (possibly fewer than @min after the timeout) or -errno:
 * -EINVAL if @min exceeds the requests in flight plus those completed.
 * Thread-safe.
 */
int sgdma_queue_reap(struct sgdma_queue *q, struct sgdma_cqe *cqes,
		     unsigned int max, unsigned int min, int timeout_ms);
/*
 * A file descriptor (an eventfd) that polls readable while completions wait
 * to be reaped; it may also wake once spuriously, so reap with @min 0 from
 * an event loop. Owned by the queue. Thread-safe.
 */
int sgdma_queue_fd(const struct sgdma_queue *q);
/* Requests submitted and not yet reaped. Thread-safe. */
unsigned int sgdma_queue_pending(struct sgdma_queue *q);

/* ---- utilities ---- */

/*
 * CRC32C (Castagnoli, as iSCSI and the device) in software, to check the
 * device's: start with @crc 0, feed pieces in order. Thread-safe.
 */
uint32_t sgdma_crc32c(uint32_t crc, const void *buf, size_t len);
/*
 * A message for a negative errno returned by this library, worded for
 * sgdma devices where the plain strerror() text would mislead. Never NULL.
 * Thread-safe.
 */
const char *sgdma_strerror(int err);
/* The library's version, "MAJOR.MINOR.PATCH". Thread-safe. */
const char *sgdma_version(void);

/* Alignment of large buffers from sgdma_mem_alloc(): a huge page. */
#define SGDMA_MEM_HUGE_ALIGN	(2u << 20)

/*
 * Memory to transfer from and to, or to register: @len bytes (at least 1)
 * of private anonymous memory, zeroed, page-aligned and, from
 * SGDMA_MEM_HUGE_ALIGN bytes up, aligned to that, with transparent huge
 * pages asked for. Alignment is what lets an IOMMU map the buffer with
 * 2 MiB pages: a buffer that starts inside a huge page lands at an I/O
 * address that is not 2 MiB-aligned, so it is mapped 4 KiB at a time and
 * the device needs a translation for every 4 KiB. Returns 0 and *@addr,
 * or -EINVAL (zero length) or -ENOMEM. Thread-safe.
 */
int sgdma_mem_alloc(size_t len, void **addr);
/* Frees what sgdma_mem_alloc() returned; @len as given to it. */
void sgdma_mem_free(void *addr, size_t len);

/*
 * ---- Buffers, mmap and asynchronous queues (ABI 3) ----
 *
 * Thin wrappers of the ioctls of uapi/sgdma.h: each returns 0 (or a count,
 * or a descriptor) on success and a negative errno on failure. All are
 * thread-safe.
 *
 * Two queues: sgdma_queue (above) takes any memory and runs synchronous
 * transfers on worker threads; sgdma_bufq is the driver's own queue, for
 * registered and coherent buffers only: zero-copy, no threads, completions
 * through its file descriptor.
 */

/* Pins and maps [@addr, @addr + @len) once; *@handle names it. */
int sgdma_buf_register(struct sgdma_dev *dev, void *addr, size_t len,
		       uint32_t flags, uint32_t *handle);
/*
 * A coherent buffer of @len bytes (rounded up to pages); *@mmap_offset (if
 * not NULL) is what sgdma_buf_mmap() passes to mmap.
 */
int sgdma_buf_alloc(struct sgdma_dev *dev, size_t len, uint32_t *handle,
		    uint64_t *mmap_offset);
/* Drops a handle; -EBUSY while a transfer in flight uses it. */
int sgdma_buf_free(struct sgdma_dev *dev, uint32_t handle);
/* SGDMA_IOC_BUF_XFER as is: sets @x->size; results in @x. */
int sgdma_buf_xfer(struct sgdma_dev *dev, struct sgdma_buf_xfer *x);
/* Maps @len bytes of a coherent buffer (shared, read and write). */
int sgdma_buf_mmap(struct sgdma_dev *dev, uint32_t handle, size_t len,
		   void **addr);
/* Maps @len bytes of card memory from @off (shared, write-combined). */
int sgdma_card_mmap(struct sgdma_dev *dev, uint64_t off, size_t len,
		    void **addr);
/*
 * A queue of @depth (SGDMA_QUEUE_* @flags; @eventfd or -1): returns its
 * file descriptor, which the caller closes.
 */
int sgdma_bufq_create(struct sgdma_dev *dev, uint32_t depth, uint32_t flags,
		      int eventfd);
/* Starts @x on queue @qfd (sets @x->size). */
int sgdma_bufq_submit(int qfd, struct sgdma_buf_xfer *x);
/*
 * Starts @x[0] to @x[@n - 1] in order, in one system call (sets their
 * size): returns how many started, stopping at the first that failed, or
 * that one's negative errno if it was the first. @n is at most
 * SGDMA_QUEUE_MAX_DEPTH. Drivers before ABI 4 get them one at a time.
 */
int sgdma_bufq_submit_batch(int qfd, struct sgdma_buf_xfer *x, unsigned int n);
/*
 * Collects up to @max completions into @c; with SGDMA_REAP_WAIT waits for
 * one while any is in flight. Returns how many.
 */
int sgdma_bufq_reap(int qfd, struct sgdma_completion *c, unsigned int max,
		    uint32_t flags);

#ifdef __cplusplus
}
#endif

#endif /* LIBSGDMA_H */
