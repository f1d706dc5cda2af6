/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libsgdma: user-space access to sgdma devices.
 *
 * Every call that can fail returns 0 (or a count) on success and a negative
 * errno value on failure; sgdma_strerror() turns that into a message. There
 * is no global state: calls on different handles never interfere, and a
 * handle may be shared between threads unless a call says otherwise.
 */
#ifndef LIBSGDMA_H
#define LIBSGDMA_H

#include <stddef.h>
#include <stdint.h>

#include <sgdma.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sgdma_dev;

/* Opens a device node by path. Thread-safe. */
int sgdma_open(const char *path, struct sgdma_dev **devp);
/* Opens /dev/sgdma<index>. Thread-safe. */
int sgdma_open_index(unsigned int index, struct sgdma_dev **devp);
/* Closes the handle; no call on it may be in progress or follow. */
void sgdma_close(struct sgdma_dev *dev);
/* The file descriptor behind the handle, for poll() and raw ioctls. */
int sgdma_fd(const struct sgdma_dev *dev);
/* Fills @info with the device's identity. Thread-safe. */
int sgdma_get_info(struct sgdma_dev *dev, struct sgdma_info *info);
/*
 * SGDMA_IOC_XFER as is: sets @x->size, returns 0 or -errno and leaves the
 * kernel's answers (bytes, crc, path) in @x. Thread-safe.
 */
int sgdma_xfer(struct sgdma_dev *dev, struct sgdma_xfer *x);
/*
 * One buffer to card memory at @off, card memory to one buffer, and one
 * buffer to another through the device. @flags are SGDMA_XFER_*; with
 * SGDMA_XFER_CRC, *@crc receives the device's CRC32C (@crc may be NULL
 * otherwise). Thread-safe.
 */
int sgdma_write_card(struct sgdma_dev *dev, uint64_t off, const void *buf,
		     size_t len, uint32_t flags, uint32_t *crc);
int sgdma_read_card(struct sgdma_dev *dev, uint64_t off, void *buf,
		    size_t len, uint32_t flags, uint32_t *crc);
int sgdma_copy(struct sgdma_dev *dev, void *dst, const void *src, size_t len,
	       uint32_t flags, uint32_t *crc);
/*
 * CRC32C (Castagnoli, as iSCSI and the device) in software, to check the
 * device's: start with @crc 0, feed pieces in order. Thread-safe.
 */
uint32_t sgdma_crc32c(uint32_t crc, const void *buf, size_t len);
/* A message for a negative errno returned by this library. Thread-safe. */
const char *sgdma_strerror(int err);

/*
 * ---- Buffers, mmap and asynchronous queues (ABI 3) ----
 *
 * Thin wrappers of the ioctls of uapi/sgdma.h: each returns 0 (or a count,
 * or a descriptor) on success and a negative errno on failure. All are
 * thread-safe.
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
int sgdma_queue_create(struct sgdma_dev *dev, uint32_t depth, uint32_t flags,
		       int eventfd);
/* Starts @x on queue @qfd (sets @x->size). */
int sgdma_queue_submit(int qfd, struct sgdma_buf_xfer *x);
/*
 * Collects up to @max completions into @c; with SGDMA_REAP_WAIT waits for
 * one while any is in flight. Returns how many.
 */
int sgdma_queue_reap(int qfd, struct sgdma_completion *c, unsigned int max,
		     uint32_t flags);

#ifdef __cplusplus
}
#endif

#endif /* LIBSGDMA_H */
